import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { REVIEW_LOG_NAMESPACE, reviewReportFromStore } from '../../../lib/approval/reviewLog';
import type { SummaryPeriod } from '../../../lib/evaluation';
import { InputError } from '../../../lib/types';
import type { KnowledgeBase } from '../../shared/storeOptions';

const show = { show: { operation: ['reviewReport'] } };

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
		description: 'One output item per period',
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
	return rows.map((row) => ({ json: { ...row, timeZone, namespace } }));
}
