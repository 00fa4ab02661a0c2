import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { REVIEW_LANGUAGE_NAMES, REVIEW_LANGUAGES, parseReviewLanguage } from '../../../lib/approval/i18n';
import { REVIEW_LOG_NAMESPACE, reviewReportFromStore } from '../../../lib/approval/reviewLog';
import { renderReviewReport, type SummaryPeriod } from '../../../lib/evaluation';
import { InputError } from '../../../lib/types';
import type { KnowledgeBase } from '../../shared/storeOptions';

const show = { show: { operation: ['reviewReport'] } };
const showForReport = { show: { operation: ['reviewReport'], reportOutput: ['report'] } };

export const description: INodeProperties[] = [
	{
		displayName: `Reads the review log Human Approval keeps when "Remember Approved Versions" is on: set Store, Collection and Namespace below as on Human Approval (its Review Log Namespace, "${REVIEW_LOG_NAMESPACE}" by default)`,
		name: 'reviewReportNotice',
		type: 'notice',
		default: '',
		displayOptions: show,
	},
	{
		displayName: 'Period',
		name: 'period',
		type: 'options',
		options: [
			{ name: 'Week', value: 'week', description: 'ISO weeks, Monday to Sunday (2026-W48)' },
			{ name: 'Month', value: 'month', description: 'Calendar months (2026-11)' },
		],
		default: 'week',
		description: 'What one row of the report covers (one output item each, or one point of the chart)',
		displayOptions: show,
	},
	{
		displayName: 'Periods',
		name: 'periods',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 520 },
		default: 12,
		description: 'How many periods to report, the current one included; periods without decisions are reported with zeros',
		displayOptions: show,
	},
	{
		displayName: 'Time Zone',
		name: 'reportTimeZone',
		type: 'string',
		default: '',
		placeholder: 'Europe/Paris',
		description: 'IANA time zone the weeks and months start in. Empty = the workflow\'s time zone.',
		displayOptions: show,
	},
	{
		displayName: 'Output',
		name: 'reportOutput',
		type: 'options',
		options: [
			{ name: 'One Item per Period', value: 'periods', description: 'For a spreadsheet, a data table or your own chart' },
			{
				name: 'Report With Chart',
				value: 'report',
				description:
					'One item ready to e-mail: subject, html and text, the periods, and the chart as a PNG image (drawn by this node, no chart service)',
			},
		],
		default: 'periods',
		displayOptions: show,
	},
	{
		displayName:
			'To e-mail it with n8n\'s Send Email node: Email Format HTML (or Both), HTML = {{ $json.html }}, Text = {{ $json.text }}, Subject = {{ $json.subject }}, and under Options → Inline Attachments the chart\'s field name (chart): the html shows it with <img src="cid:chart">',
		name: 'reportEmailNotice',
		type: 'notice',
		default: '',
		displayOptions: showForReport,
	},
	{
		displayName: 'Report Language',
		name: 'reportLanguage',
		type: 'options',
		options: REVIEW_LANGUAGES.map((language) => ({ name: REVIEW_LANGUAGE_NAMES[language], value: language })),
		default: 'en',
		description: 'Language of the report\'s texts, chart labels, numbers and dates',
		displayOptions: showForReport,
	},
	{
		displayName: 'Report Title',
		name: 'reportTitle',
		type: 'string',
		default: '',
		placeholder: 'Reviews of our marketing drafts',
		description: 'Heading of the report. Empty = "Review report" in the report\'s language.',
		displayOptions: showForReport,
	},
	{
		displayName: 'Put Chart in Field',
		name: 'chartBinaryProperty',
		type: 'string',
		default: 'chart',
		required: true,
		description:
			'Name of the binary field the PNG chart is put in. The html refers to the image by this name (src="cid:chart" for chart): list the same name under Send Email\'s Inline Attachments.',
		displayOptions: showForReport,
	},
];

/**
 * Per week or month: decisions, approved, rejected, timed out, approval rate (approved / (approved + rejected)),
 * median edit ratio of the approved drafts and median seconds to decision (see lib/evaluation/edits.ts).
 */
export async function execute(
	ctx: IExecuteFunctions,
	itemIndex: number,
	{ store, namespace }: KnowledgeBase,
): Promise<INodeExecutionData[]> {
	const period = ctx.getNodeParameter('period', itemIndex) as SummaryPeriod;
	const periods = Number(ctx.getNodeParameter('periods', itemIndex));
	if (!Number.isInteger(periods) || periods < 1) throw new InputError(`"Periods" must be a whole number of at least 1, got ${String(periods)}.`, 'periods');
	const timeZone = String(ctx.getNodeParameter('reportTimeZone', itemIndex, '') ?? '').trim() || ctx.getTimezone();
	const rows = await reviewReportFromStore(store, namespace, { period, periods, timeZone });
	if (ctx.getNodeParameter('reportOutput', itemIndex, 'periods') !== 'report') {
		return rows.map((row) => ({ json: { ...row, timeZone, namespace } }));
	}

	const language = parseReviewLanguage(ctx.getNodeParameter('reportLanguage', itemIndex, 'en'), 'reportLanguage');
	// The html's <img src="cid:…"> is this name: Send Email uses it as the attachment's Content-ID.
	const chartField = String(ctx.getNodeParameter('chartBinaryProperty', itemIndex, 'chart') ?? '').trim();
	const title = String(ctx.getNodeParameter('reportTitle', itemIndex, '') ?? '').trim();
	const report = await renderReviewReport(rows, { language, period, timeZone, namespace, chartId: chartField, ...(title ? { title } : {}) });
	const last = rows[rows.length - 1];
	const chart = await ctx.helpers.prepareBinaryData(report.png, `review-report-${last.period}.png`, 'image/png');
	return [
		{
			json: { subject: report.subject, html: report.html, text: report.text, periods: rows as unknown as IDataObject[], timeZone, namespace, language },
			binary: { [chartField]: chart },
		},
	];
}
