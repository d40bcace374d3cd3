import { ZodError } from 'zod';
import { CliError, parseCliArgs, USAGE } from './cli-args.ts';
import { ControlError } from './control.ts';
import { createMarketSim } from './market-sim.ts';

/** CLI entry: `tsx sandbox/market-sim/main.ts --port 4010 ...` (see USAGE). Ctrl-C / SIGTERM stop it. */
async function main(): Promise<void> {
  let options;
  try {
    options = parseCliArgs(process.argv.slice(2));
    if (options.help) {
      process.stdout.write(USAGE);
      return;
    }
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    process.stderr.write(`market-sim: ${e.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const { help: _help, ...simOptions } = options;
  let sim;
  try {
    sim = createMarketSim(simOptions);
  } catch (e) {
    if (!(e instanceof ZodError || e instanceof ControlError)) throw e;
    process.stderr.write(`market-sim: invalid options: ${e.message}\n`);
    process.exitCode = 2;
    return;
  }
  await sim.start();
  const shutdown = () => {
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

await main();
