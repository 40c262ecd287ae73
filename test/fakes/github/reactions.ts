/** Reactions on issue comments: one per (user, content), a second POST answering 200 with the first. */
import { nodeId } from './ids.js';
import { bodyObject, fail, ok, paginate, R, route, validationFailed, type Route } from './routing.js';
import type { FakeStore, ReactionState } from './state.js';
import { userJson } from './users.js';

const CONTENTS = ['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes'];

export function reactionJson(store: FakeStore, reaction: ReactionState) {
  return { id: reaction.id, node_id: reaction.node_id, user: userJson(store, reaction.user), content: reaction.content, created_at: reaction.created_at };
}

export function reactionRoutes(store: FakeStore): Route[] {
  const commentOf = (params: string[]) => store.getRepo(params[0]!, params[1]!).comments.get(Number(params[2])) ?? fail(404, 'Not Found');
  return [
    route('GET', `${R}/issues/comments/:comment_id/reactions`, (ctx) => {
      const comment = commentOf(ctx.params);
      const list = (comment.reactions ?? []).filter((r) => !ctx.query.content || r.content === ctx.query.content);
      const page = paginate(ctx, list, store.base);
      return ok(page.items.map((r) => reactionJson(store, r)), 200, page.headers);
    }),
    route('POST', `${R}/issues/comments/:comment_id/reactions`, (ctx) => {
      const comment = commentOf(ctx.params);
      const content = bodyObject(ctx).content;
      if (typeof content !== 'string' || !CONTENTS.includes(content)) validationFailed([{ resource: 'Reaction', code: 'invalid', field: 'content' }]);
      comment.reactions ??= [];
      const existing = comment.reactions.find((r) => r.user === store.login && r.content === content);
      if (existing) return ok(reactionJson(store, existing), 200);
      const id = store.newId();
      const reaction: ReactionState = { id, node_id: nodeId('REA', id), user: store.login, content: content as string, created_at: store.now() };
      comment.reactions.push(reaction);
      return ok(reactionJson(store, reaction), 201);
    }),
  ];
}
