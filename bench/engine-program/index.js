// The compiled bench program (bench/engine-program.ts, built by `npm run bench`): its exports are the stack's outputs.
module.exports = require('../../dist/bench/engine-program.js');
