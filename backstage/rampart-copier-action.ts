// The scaffolder action `rampart:copier:copy` that backstage/template.yaml calls.
//
// Backstage has no built-in Copier action, so a platform team adds this one to
// its backend (a scaffolder backend module, as `yarn backstage-cli new` makes
// them) and installs Copier, git and uv on the backend's hosts, for example
// with `uv tool install copier`.
//
// Answers go to Copier as separate arguments, never through a shell, and
// Copier's own validators refuse a bad answer before any file is written.
import { createTemplateAction, executeShellCommand } from '@backstage/plugin-scaffolder-node';

export function createRampartCopierAction() {
  return createTemplateAction({
    id: 'rampart:copier:copy',
    description: 'Generates a service from the Rampart Copier template into the workspace',
    schema: {
      input: {
        url: z => z.string({ description: 'Git URL of the Rampart template repository' }),
        vcsRef: z =>
          z.string({ description: 'Template version (tag) to generate from' }).optional(),
        answers: z =>
          z.record(z.union([z.string(), z.boolean()]), {
            description: "Copier's answers, by question name",
          }),
      },
    },
    async handler(ctx) {
      const args = ['copy', '--trust', '--defaults'];
      if (ctx.input.vcsRef) {
        args.push('--vcs-ref', ctx.input.vcsRef);
      }
      for (const [question, answer] of Object.entries(ctx.input.answers)) {
        args.push('--data', `${question}=${answer}`);
      }
      args.push(ctx.input.url, ctx.workspacePath);
      await executeShellCommand({ command: 'copier', args, logger: ctx.logger });
    },
  });
}
