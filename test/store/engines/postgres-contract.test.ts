import { openPostgresEngine } from '../../../store/engines/postgres/index.js';
import { freshSchema } from '../../support/postgres.js';
import { engineContract } from '../engine-contract.js';

engineContract('postgres', () => {
  const target = freshSchema();
  const engine = openPostgresEngine({ url: target.url });
  return Promise.resolve({
    engine,
    other: () => Promise.resolve(openPostgresEngine({ url: target.url })),
    cleanup: async () => {
      await engine.close();
      await target.drop();
    },
  });
});
