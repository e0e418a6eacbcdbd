// Entry point of the `prefrec` command: each command lives in its own module and registers itself here.
import { Command } from "@commander-js/extra-typings";
import { registerData } from "./data.js";
import { registerDoctor } from "./doctor.js";
import { CliError } from "./errors.js";
import { registerEval } from "./eval.js";
import { registerExperiment } from "./experiment.js";
import { registerModel } from "./model.js";
import { registerReport } from "./report.js";
import { registerServe } from "./serve.js";
import { registerTokenizer } from "./tokenizer.js";
import { registerTrain } from "./train.js";

const program = new Command()
  .name("prefrec")
  .description(
    "Train, evaluate and serve LM-based sequential recommenders with preference optimization",
  )
  .version("0.1.0");

registerDoctor(program);
registerData(program);
registerTokenizer(program);
registerModel(program);
registerTrain(program);
registerEval(program);
registerExperiment(program);
registerReport(program);
registerServe(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CliError) {
    process.stderr.write(`prefrec: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  throw error;
}
