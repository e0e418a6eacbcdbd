// Entry point of the `prefrec` command: each command lives in its own module and registers itself
// here; failures are printed by failure.ts (one line for user errors, the stack only on --debug).
import { Command, CommanderError } from "@commander-js/extra-typings";
import { registerData } from "./data.js";
import { registerDoctor } from "./doctor.js";
import { registerEval } from "./eval.js";
import { registerExperiment } from "./experiment.js";
import { debugRequested, describeFailure } from "./failure.js";
import { registerModel } from "./model.js";
import { markRequired } from "./options.js";
import { registerReport } from "./report.js";
import { registerServe } from "./serve.js";
import { registerTokenizer } from "./tokenizer.js";
import { registerTrain } from "./train.js";

const debug = debugRequested(process.argv, process.env);
// --debug is accepted anywhere on the line, so it is taken out before commander sees it.
const argv = process.argv.filter((a, i) => i < 2 || a !== "--debug");

const program = new Command()
  .name("prefrec")
  .description(
    "Train, evaluate and serve LM-based sequential recommenders with preference optimization",
  )
  .version("0.1.0")
  .addHelpText(
    "after",
    "\nAdd --debug (or set PREFREC_DEBUG=1) to any command to see the stack trace of a failure.",
  )
  .exitOverride();

registerDoctor(program);
registerData(program);
registerTokenizer(program);
registerModel(program);
registerTrain(program);
registerEval(program);
registerExperiment(program);
registerReport(program);
registerServe(program);
markRequired(program);

try {
  await program.parseAsync(argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // commander has already printed its message; usage mistakes exit with 2, help/version with 0.
    process.exit(error.exitCode === 0 ? 0 : 2);
  }
  const { text, exitCode } = describeFailure(error, debug);
  process.stderr.write(text);
  process.exit(exitCode);
}
