/** Team membership by organization and team slug: active members answer 200, anyone else 404, as GitHub does. */
import { fail, ok, route, type Route } from './routing.js';
import type { FakeStore } from './state.js';

export function teamRoutes(store: FakeStore): Route[] {
  return [
    route('GET', '/orgs/:org/teams/:team_slug/memberships/:username', (ctx) => {
      const [org, slug, login] = ctx.params as [string, string, string];
      const members = store.teams.get(`${org}/${slug}`.toLowerCase());
      if (!members?.has(login.toLowerCase())) fail(404, 'Not Found', 'https://docs.github.com/rest/teams/members#get-team-membership-for-a-user');
      return ok({ url: `${store.base}/orgs/${org}/teams/${slug}/memberships/${login}`, role: 'member', state: 'active' });
    }),
  ];
}
