/**
 * "Which organizations": the one rule for `--org <id>` (repeatable) versus `--all-orgs`, used by
 * `assistants sync`/`status` and `tunnel up --sync` alike.
 */
import { UsageError } from '../errors.js';

export type OrgSelection = { allOrgs: true } | { allOrgs: false; orgIds: string[] };

/** Exactly one of: some org ids (lower-cased, de-duplicated) or every org. */
export function orgSelection(orgIds: readonly string[] | undefined, allOrgs: boolean | undefined): OrgSelection {
  const ids = [...new Set((orgIds ?? []).map((id) => id.toLowerCase()))];
  if (allOrgs && ids.length > 0) {
    throw new UsageError('Pass either --org <id> or --all-orgs, not both.', { hint: '--all-orgs already includes every org.' });
  }
  if (allOrgs) return { allOrgs: true };
  if (ids.length === 0) {
    throw new UsageError('Choose the organizations: pass --org <id> (repeatable) or --all-orgs.', { hint: 'Run `voxctl orgs list` to see the ids.' });
  }
  return { allOrgs: false, orgIds: ids };
}
