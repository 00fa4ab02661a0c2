import { MAX_SKIP_EXAMPLES, SkipReport } from '../../lib/loaders';

describe('SkipReport', () => {
	it('is empty until something is left out; nothing counted means nothing reported', () => {
		const report = new SkipReport();
		report.add({ unit: 'page', reason: 'beyond Max Pages 5', advice: 'Raise "Max Pages"', examples: [] });
		expect(report.isEmpty).toBe(true);
		expect(report.list()).toEqual([]);
		expect(report.summary()).toBe('');
	});

	it('adds up entries of the same unit and reason, keeping at most five examples', () => {
		const report = new SkipReport();
		const rows = (file: string, count: number) => Array.from({ length: count }, (_, index) => `${file}#${index + 1}`);
		report.add({ unit: 'row', reason: 'no text extracted', advice: 'Nothing to include', examples: rows('a.csv', 3) });
		report.add({ unit: 'row', reason: 'no text extracted', advice: 'Nothing to include', examples: rows('b.csv', 4) });
		report.add({ unit: 'page', reason: 'beyond Max Pages 50', advice: 'Raise "Max Pages" to 115 to include them', examples: ['https://x.test/51'], count: 65 });
		expect(report.list()).toEqual([
			{ count: 7, reason: 'no text extracted', advice: 'Nothing to include', examples: ['a.csv#1', 'a.csv#2', 'a.csv#3', 'b.csv#1', 'b.csv#2'] },
			{ count: 65, reason: 'beyond Max Pages 50', advice: 'Raise "Max Pages" to 115 to include them', examples: ['https://x.test/51'] },
		]);
		expect(report.list()[0].examples).toHaveLength(MAX_SKIP_EXAMPLES);
		expect(report.summary()).toBe(
			'7 rows skipped (no text extracted) — nothing to include; 65 pages skipped (beyond Max Pages 50) — raise "Max Pages" to 115 to include them',
		);
	});

	it('says "cut" for parts left out and uses the singular for one', () => {
		const report = new SkipReport();
		report.add({ unit: 'row', partial: true, reason: 'values beyond the header', advice: 'Name the columns', examples: ['a.csv#2'] });
		expect(report.summary()).toBe('1 row cut (values beyond the header) — name the columns');
	});
});
