// The compiled program (test/e2e/engine/local-backup.ts, built by `npm run e2e`'s tsc): its exports are the stack's outputs.
module.exports = require('../../../../dist/test/e2e/engine/local-backup.js');
