// A double tap must not create two orders: while a call is running, tapping again gets the
// same promise back and starts nothing. The page also greys its button, but `setData` is
// asynchronous and a second tap can arrive before the button re-renders; this cannot be raced.
// Used as a page method, one guard serves the page (a page runs one payment at a time).

export interface Single<T, A extends unknown[], R> {
  (this: T, ...args: A): Promise<R>
  /** True while a call is running. */
  readonly busy: boolean
}

export function single<T, A extends unknown[], R>(fn: (this: T, ...args: A) => Promise<R>): Single<T, A, R> {
  let running: Promise<R> | null = null
  const wrapped = function (this: T, ...args: A): Promise<R> {
    if (running) return running
    const p = Promise.resolve()
      .then(() => fn.apply(this, args))
      .finally(() => {
        running = null
      })
    running = p
    return p
  } as Single<T, A, R>
  Object.defineProperty(wrapped, 'busy', { get: () => running !== null })
  return wrapped
}
