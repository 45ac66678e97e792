/** What a step can do on the target in use, and what it cannot: then NotApplicable, with the target's reason. */
import { NotApplicable } from '../not-applicable';
import { NoGoldenIdentityError } from './golden-identity';
import { NoCloneIdentityError } from './template-clone';

/** What `work` gives; where the target has no golden or clone identity configured for it, NotApplicable with the reason. */
export async function onConfiguredIdentity<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof NoGoldenIdentityError || error instanceof NoCloneIdentityError) throw new NotApplicable(error.message);
    throw error;
  }
}

/** What `work` gives, or the reason it is not applicable on this target (a NotApplicable it threw); other errors go on. */
export async function unlessNotApplicable<T>(work: () => Promise<T>): Promise<{ readonly value: T } | { readonly notApplicable: string }> {
  try {
    return { value: await work() };
  } catch (error) {
    if (!(error instanceof NotApplicable)) throw error;
    return { notApplicable: error.reason };
  }
}
