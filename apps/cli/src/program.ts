import { dataFetchCommand, dataInfoCommand } from './commands/data.ts';
import { dbMigrateCommand, dbStatusCommand } from './commands/db.ts';
import { evaluateCommand } from './commands/evaluate.ts';
import { importCommand } from './commands/import.ts';
import { mainCommand } from './commands/main-job.ts';
import { modelsActivateCommand, modelsExportCommand, modelsListCommand } from './commands/models.ts';
import { predictCommand, recommendCommand, similarCommand } from './commands/query.ts';
import { serveCommand } from './commands/serve.ts';
import { tokenCommand } from './commands/token.ts';
import { trainCommand } from './commands/train.ts';
import { tuneCommand } from './commands/tune.ts';
import type { Command } from './framework/command.ts';
import type { Program } from './framework/router.ts';

export const commands: Command[] = [
  dataFetchCommand,
  dataInfoCommand,
  dbMigrateCommand,
  dbStatusCommand,
  importCommand,
  trainCommand,
  evaluateCommand,
  tuneCommand,
  recommendCommand,
  similarCommand,
  predictCommand,
  modelsListCommand,
  modelsActivateCommand,
  modelsExportCommand,
  serveCommand,
  tokenCommand,
  mainCommand,
];

export const program: Program = {
  bin: 'movierec',
  summary: 'Ops CLI of the movie recommender: data, database, training, evaluation, queries, models, API.',
  commands,
  epilogue: [
    'Environment:',
    '  DATABASE_URL        postgres://… to use that PostgreSQL; unset: the embedded PGlite database',
    '  MOVIEREC_DATA_DIR   folder of the embedded database (default: .data/pglite at the repo root)',
    '  MOVIEREC_CACHE_DIR  where `data fetch` keeps downloads (default: .cache/datasets at the repo root)',
    '  PORT, HOST          where `serve` and the main job listen (default 4000, 127.0.0.1)',
    '',
    'Exit codes: 0 done, 1 failed, 2 usage (unknown command or flag, bad argument), 130 interrupted (Ctrl-C).',
  ].join('\n'),
};
