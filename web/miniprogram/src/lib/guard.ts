// A double tap must not create two orders: while a call is running, tapping again gets the
// same promise back and starts nothing. The page also greys its button, but `setData` is
// asynchronous and a second tap can arrive before the button re-renders; this cannot be raced.
// Used as a page method, one guard serves the page (a page runs one payment at a time).
// The call starts within the tap itself (not a tick later), so what WeChat allows only from a
// tap (`wx.requestSubscribeMessage`) may come first in it.

export interface Single<T, A extends unknown[], R> {
  (this: T, ...args: A): Promise<R>
  /** True while a call is running. */
  readonly busy: boolean
}

export function single<T, A extends unknown[], R>(fn: (this: T, ...args: A) => Promise<R>): Single<T, A, R> {
  let running: Promise<R> | null = null
  const wrapped = function (this: T, ...args: A): Promise<R> {
    if (running) return running
    let started: Promise<R>
    try {
      started = Promise.resolve(fn.apply(this, args))
    } catch (e) {
      started = Promise.reject(e)
    }
    const p: Promise<R> = started.finally(() => {
      if (running === p) running = null
    })
    running = p
    return p
  } as Single<T, A, R>
  Object.defineProperty(wrapped, 'busy', { get: () => running !== null })
  return wrapped
}
