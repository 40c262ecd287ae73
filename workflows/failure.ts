import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, TemporalFailure } from '@temporalio/workflow';

/** The failure type and message people should see for a failed activity or child. */
export function describeFailure(error: unknown): { type: string; message: string } {
  let cause: unknown = error;
  while ((cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof TemporalFailure) return { type: cause.name, message: cause.message };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}

export function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'InvalidWorkflowInput', message, nonRetryable: true });
}
