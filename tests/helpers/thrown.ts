/** Runs `fn` and returns what it threw; fails the test when it does not throw. */
export async function thrown<E = Error>(fn: () => Promise<unknown>): Promise<E> {
  try {
    await fn();
  } catch (e) {
    return e as E;
  }
  throw new Error('expected the call to throw');
}
