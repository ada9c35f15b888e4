import { count } from '../plan/check';
import { PreparedPki } from './prepare';

/** What the PKI step did (or, for validate, would do). Names and reasons only: never key material. */
export function pkiSummary(p: PreparedPki, dryRun: boolean): string {
  const r = p.report;
  const lines = [`pki: ${p.dir}: ${r.created.length ? `${dryRun ? 'would create' : 'created'} ${r.created.join(', ')}` : 'no new CA'}${r.loaded.length ? `; loaded ${r.loaded.join(', ')}` : ''}; ${dryRun ? 'would issue' : 'issued'} ${count(r.issued.length, 'certificate')}, reused ${r.reused}`];
  for (const i of r.issued.filter((x) => x.reason !== 'new')) lines.push(`  ${dryRun ? 'would reissue' : 'reissued'} ${i.node} ${i.id}: ${i.reason}`);
  for (const [node, what] of r.restarts) lines.push(`  restart on ${node}: ${what.join(', ')}`);
  if (!dryRun) lines.push(`rbac: once the API answers, on ${[...p.files.keys()][0]}: ${p.rbacApplyCommand}`);
  return `${lines.join('\n')}\n`;
}
