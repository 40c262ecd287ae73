/** A collaborator's permission on a repository: `permission` (admin, write, read, none) and the finer `role_name`. */
import { ok, R, route, type Route } from './routing.js';
import type { FakeStore } from './state.js';
import { userJson } from './users.js';

/** GitHub folds maintain into write and triage into read in `permission`; `role_name` keeps them apart. */
const PERMISSION: Record<string, string> = { admin: 'admin', maintain: 'write', write: 'write', triage: 'read', read: 'read' };

export function collaboratorRoutes(store: FakeStore): Route[] {
  return [
    route('GET', `${R}/collaborators/:username/permission`, (ctx) => {
      const repo = store.repoOf(ctx);
      const login = ctx.params[2]!;
      // Anyone may read a public repository: a stranger is answered read, as GitHub does for public repositories.
      const role = repo.collaborators.get(login.toLowerCase()) ?? 'read';
      return ok({ permission: PERMISSION[role] ?? 'read', role_name: role, user: { ...userJson(store, login), role_name: role } });
    }),
  ];
}
