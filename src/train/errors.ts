// Errors of training runs, meant for the person running them.
import { UserError } from "../io/errors.js";

/** A training run cannot start or continue; the message says why. */
export class TrainingError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = "TrainingError";
  }
}
