import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecordedOperation } from '../support/promote/changeset';
import { collectionOf, createdId, IdMap, leftOut, remapOperation, replayOrder, ReplayPlanError } from '../support/promote/replay-plan';

function operation(method: RecordedOperation['method'], path: string, status: number, response: unknown, body?: Record<string, unknown>): RecordedOperation {
  return body === undefined ? { method, path, status, response } : { method, path, status, response, body };
}

const createThirdparty = operation('POST', '/thirdparties', 200, 1234, { name: 'ACME', client: '0', fournisseur: '1' });
const createInvoice = operation('POST', '/supplierinvoices', 200, 88, {
  socid: 1234,
  ref_supplier: 'F-2026-001',
  lines: [
    { desc: 'Screws', qty: 2, subprice: 10, fk_product: 7 },
    { desc: 'Bolts', qty: 1, subprice: 5, fk_product: 501 },
  ],
});

/** The ids a replay on prod would have recorded after the creates above: thirdparty 1234 → 5678, invoice 88 → 4321, product 501 → 9001. */
function replayedIds(): IdMap {
  const ids = new IdMap();
  ids.recordCreation(createThirdparty, 5678);
  ids.recordCreation(createInvoice, 4321);
  ids.record('products', 501, 9001);
  return ids;
}

describe('the id a create answered', () => {
  it('is the bare number a successful POST to a collection answered', () => {
    assert.equal(createdId(createThirdparty), 1234);
    assert.equal(createdId(operation('POST', '/supplierinvoices', 201, '88')), 88);
    assert.equal(createdId(operation('POST', '/supplierinvoices/88/lines', 200, 17)), 17);
  });

  it('is none for anything else', () => {
    for (const other of [
      operation('POST', '/thirdparties', 403, 1234),
      operation('POST', '/thirdparties', 500, 1234),
      operation('PUT', '/thirdparties/1234', 200, 1234),
      operation('DELETE', '/thirdparties/1234', 200, 1),
      operation('POST', '/thirdparties/1234/representative/3', 200, 1),
      operation('POST', '/supplierinvoices/88/validate', 200, { success: { code: 200 } }),
      operation('POST', '/thirdparties', 200, 0),
      operation('POST', '/thirdparties', 200, -4),
      operation('POST', '/thirdparties', 200, 12.5),
      operation('POST', '/thirdparties', 200, '0012'),
      operation('POST', '/thirdparties', 200, '12abc'),
      operation('POST', '/thirdparties', 200, 2 ** 53),
      operation('POST', '/thirdparties', 200, null),
    ]) {
      assert.equal(createdId(other), undefined, `${other.method} ${other.path} → ${other.status} ${JSON.stringify(other.response)}`);
    }
  });

  it('belongs to the collection the path names, ids left out', () => {
    assert.equal(collectionOf('/thirdparties'), 'thirdparties');
    assert.equal(collectionOf('/supplierinvoices/88/lines'), 'supplierinvoices/lines');
    assert.equal(collectionOf('/supplierinvoices/88/lines?x=1'), 'supplierinvoices/lines');
  });
});

describe('the id map', () => {
  it('maps a sandbox id to prod id per resource and knows nothing else', () => {
    const ids = replayedIds();
    assert.equal(ids.lookup('thirdparties', 1234), 5678);
    assert.equal(ids.lookup('supplierinvoices', 88), 4321);
    assert.equal(ids.lookup('supplierinvoices', 1234), undefined);
    assert.equal(ids.lookup('contacts', 1234), undefined);
    assert.equal(ids.lookup('thirdparties', 12), undefined);
  });

  it('records a nested create in its own collection, apart from its parent resource', () => {
    const ids = new IdMap();
    ids.recordCreation(operation('POST', '/supplierinvoices/88/lines', 200, 17), 70);
    assert.equal(ids.lookup('supplierinvoices/lines', 17), 70);
    assert.equal(ids.lookup('supplierinvoices', 17), undefined);
  });

  it('records nothing for an operation that created nothing', () => {
    const ids = new IdMap();
    ids.recordCreation(operation('PUT', '/thirdparties/12', 200, 12), 99);
    ids.recordCreation(operation('POST', '/thirdparties', 403, 1234), 99);
    assert.equal(ids.lookup('thirdparties', 12), undefined);
    assert.equal(ids.lookup('thirdparties', 1234), undefined);
  });

  it('refuses a create prod did not answer with an id, and a second prod id for the same sandbox id', () => {
    assert.throws(() => new IdMap().recordCreation(createThirdparty, { error: 'duplicate' }), ReplayPlanError);
    const ids = replayedIds();
    ids.record('thirdparties', 1234, 5678);
    assert.throws(() => ids.record('thirdparties', 1234, 5679), /thirdparties 1234 of the sandbox is already prod's 5678, not 5679/);
  });
});

describe('remapping an operation for prod', () => {
  it('rewrites the invoice of a thirdparty created just before: its socid, and the product ids of its lines created in the rehearsal', () => {
    assert.deepEqual(remapOperation(createInvoice, replayedIds()), {
      method: 'POST',
      path: '/supplierinvoices',
      body: {
        socid: 5678,
        ref_supplier: 'F-2026-001',
        lines: [
          { desc: 'Screws', qty: 2, subprice: 10, fk_product: 7 },
          { desc: 'Bolts', qty: 1, subprice: 5, fk_product: 9001 },
        ],
      },
    });
  });

  it('rewrites the id in the path of an update of a created object, and leaves its other numbers alone', () => {
    const update = operation('PUT', '/thirdparties/1234', 200, { id: 1234 }, { name: 'ACME SA', zip: '1234', fk_pays: 1234 });
    assert.deepEqual(remapOperation(update, replayedIds()), { method: 'PUT', path: '/thirdparties/5678', body: { name: 'ACME SA', zip: '1234', fk_pays: 1234 } });
  });

  it('rewrites each id of a nested path in its own collection and keeps the query string', () => {
    const ids = replayedIds();
    ids.recordCreation(operation('POST', '/supplierinvoices/88/lines', 200, 17), 70);
    assert.equal(remapOperation(operation('PUT', '/supplierinvoices/88/lines/17?notrigger=0', 200, 1), ids).path, '/supplierinvoices/4321/lines/70?notrigger=0');
    assert.equal(remapOperation(operation('DELETE', '/supplierinvoices/88/lines/88', 200, 1), ids).path, '/supplierinvoices/4321/lines/88');
  });

  it('leaves alone ids the rehearsal did not create, in the path and in reference fields', () => {
    const golden = operation('PUT', '/thirdparties/12', 200, 12, { socid: 12, fk_soc: '12', fk_facture_fourn: 1234, fk_product: 5678 });
    assert.deepEqual(remapOperation(golden, replayedIds()), { method: 'PUT', path: '/thirdparties/12', body: { socid: 12, fk_soc: '12', fk_facture_fourn: 1234, fk_product: 5678 } });
    assert.equal(remapOperation(operation('PUT', '/contacts/1234', 200, 1234), replayedIds()).path, '/contacts/1234');
  });

  it('keeps the type of an id: a numeric string stays a string, a number a number', () => {
    const body = { socid: '1234', fk_soc: 1234, lines: [{ fk_facture_fourn: '88' }, { fk_facture_fourn: 88 }] };
    assert.deepEqual(remapOperation(operation('POST', '/supplierinvoices', 200, 89, body), replayedIds()).body, {
      socid: '5678',
      fk_soc: 5678,
      lines: [{ fk_facture_fourn: '4321' }, { fk_facture_fourn: 4321 }],
    });
  });

  it('leaves alone fields that are not in the table of references, and values that are not ids', () => {
    const body = { id: 1234, thirdparty_id: 1234, note_public: '1234', socid: '1234 ', fk_product: true, array_options: { options_socid: 1234 } };
    assert.deepEqual(remapOperation(operation('POST', '/supplierinvoices', 200, 90, body), replayedIds()).body, body);
  });

  it('sends no body when none was recorded, and does not change the recorded operation', () => {
    const remove = operation('DELETE', '/thirdparties/1234', 200, 1);
    assert.deepEqual(remapOperation(remove, replayedIds()), { method: 'DELETE', path: '/thirdparties/5678' });
    const before = structuredClone(createInvoice);
    remapOperation(createInvoice, replayedIds());
    assert.deepEqual(createInvoice, before);
  });
});

describe('the replay order', () => {
  const operations = [
    createThirdparty,
    operation('POST', '/supplierinvoices', 403, { error: { code: 403, message: 'Access denied' } }),
    createInvoice,
    operation('PUT', '/thirdparties/1234', 500, { error: { code: 500 } }),
    operation('DELETE', '/thirdparties/12', 0, null),
    operation('PUT', '/thirdparties/1234', 204, null, { name: 'ACME SA' }),
  ];

  it('keeps only the operations that succeeded on the sandbox, in the order they were recorded', () => {
    assert.deepEqual(replayOrder(operations), [operations[0], operations[2], operations[5]]);
  });

  it('says which operations were left out and why', () => {
    assert.deepEqual(
      leftOut(operations).map(({ index, operation: left, reason }) => [index, left, reason]),
      [
        [1, operations[1], 'refused by the sandbox (HTTP 403)'],
        [3, operations[3], 'failed on the sandbox (HTTP 500)'],
        [4, operations[4], 'failed on the sandbox (no answer)'],
      ],
    );
  });

  it('leaves nothing out of a rehearsal where everything succeeded', () => {
    assert.deepEqual(leftOut([createThirdparty, createInvoice]), []);
    assert.deepEqual(replayOrder([]), []);
  });
});
