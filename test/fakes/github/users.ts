/** userJson: the simple-user object GitHub embeds as the author of issues, comments, releases and repositories. */
import { nodeId, sha1 } from './ids.js';
import { HTML } from './routing.js';
import type { FakeStore } from './state.js';

export function userJson(store: FakeStore, name: string) {
  const id = 100_000 + (parseInt(sha1(name).slice(0, 6), 16) % 900_000);
  const url = `${store.base}/users/${name}`;
  return {
    login: name,
    id,
    node_id: nodeId('U', id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url,
    html_url: `${HTML}/${name}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: 'User',
    user_view_type: 'public',
    site_admin: false,
  };
}
