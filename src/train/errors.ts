// Errors of training runs, meant for the person running them.

/** A training run cannot start or continue; the message says why. */
export class TrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainingError";
  }
}
