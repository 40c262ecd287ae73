/** sources/: lists that must be made before they can be read (a git ref's, by Rancher's own export script). */
export { createGenerateGitLists } from './generate-git-lists.js';
