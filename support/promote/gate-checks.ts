import { expect } from 'chai';
import type { Changeset } from './changeset';
import type { Promotion } from './promote';
import { PromotionRefused } from './refusal';

/**
 * What the promotion gate asserts of a review, of a promotion and of promote's refusal, each check with the words its
 * failure shows; the steps of steps/promotion.steps.ts call these.
 */

/** The terminal text (uncoloured) and the HTML page of a review. */
export interface RenderedReview {
  readonly text: string;
  readonly html: string;
}

/** Both reviews show `digest` and, per relation of `rows` (columns `relation`, `added rows`), that many rows added and none removed or changed. */
export function expectReviewShowsRowsAdded(review: RenderedReview, digest: string, rows: readonly Record<string, string>[]): void {
  const { text, html } = review;
  expect(text, 'the terminal review').to.include(`digest ${digest}`);
  expect(html, 'the HTML review').to.include(digest);
  for (const row of rows) {
    const heading = text.split('\n').find((line) => line.includes(` ${row.relation!} `));
    expect(heading, `the review's line for ${row.relation}`).to.match(new RegExp(`\\b${row['added rows']} added, 0 removed, 0 changed`));
    expect(html, `the HTML review's section for ${row.relation}`).to.include(`data-relation="${row.relation}"`);
  }
}

/** The promotion promote returned; the error it threw instead is thrown again. */
export function succeededPromotion(outcome: Promotion | Error | undefined): Promotion {
  if (outcome instanceof Error) throw outcome;
  expect(outcome, 'a promotion').to.not.equal(undefined);
  return outcome!;
}

/**
 * The promotion replayed `count` operations, the thirdparty then the invoice, and the invoice's `socid` is prod's new
 * thirdparty where the rehearsed invoice's was the sandbox's; returns the promotion.
 */
export function expectThirdpartyRemapped(outcome: Promotion | Error | undefined, rehearsed: Changeset, count: number): Promotion {
  const promotion = succeededPromotion(outcome);
  expect(promotion.replayed, 'operations replayed').to.have.length(count);
  expect(promotion.replayed.map((operation) => `${operation.method} ${operation.path}`)).to.deep.equal(['POST /thirdparties', 'POST /supplierinvoices']);
  const [thirdparty, invoice] = promotion.replayed;
  expect(typeof thirdparty!.answer, "prod's new thirdparty id").to.equal('number');
  const [rehearsedThirdparty, rehearsedInvoice] = rehearsed.operations;
  expect(thirdparty!.answer, "prod's new thirdparty id differs from the sandbox's").to.not.equal(rehearsedThirdparty!.response);
  // Dolibarr 19 answers a new id as a JSON string; an agent may send it on as a string or a number.
  expect(String(rehearsedInvoice!.body?.['socid']), "the rehearsed invoice's thirdparty").to.equal(String(rehearsedThirdparty!.response));
  expect(invoice!.body?.['socid'], "the replayed invoice's thirdparty").to.equal(thirdparty!.answer);
  return promotion;
}

/** A promotion in one line, for a scenario's evidence: its digest and each replayed operation with prod's answer. */
export function describePromotion(promotion: Promotion): string {
  return `promoted ${promotion.digest}: ${promotion.replayed.map((operation) => `${operation.method} ${operation.path} → ${JSON.stringify(operation.answer)}`).join('; ')}`;
}

/** Prod's diff equals the rehearsed one (modulo generated ids, timestamps, provisional refs and the acting user) and holds the invoice's relations. */
export function expectProdDiffAsRehearsed(outcome: Promotion | Error | undefined): void {
  const promotion = succeededPromotion(outcome);
  expect(promotion.comparison.differences, "differences between prod's diff and the rehearsed one").to.deep.equal([]);
  expect(promotion.comparison.equal).to.equal(true);
  expect(promotion.prodChanges.map((change) => change.name)).to.include.members(['public.llx_societe', 'public.llx_facture_fourn', 'public.llx_facture_fourn_det']);
}

/** Promote refused, for exactly `reason`; returns the refusal. */
export function expectRefusedFor(outcome: Promotion | Error | undefined, reason: string): PromotionRefused {
  expect(outcome, 'the promotion outcome').to.be.instanceOf(PromotionRefused);
  const refusal = outcome as PromotionRefused;
  expect(refusal.reason, refusal.message).to.equal(reason);
  return refusal;
}
