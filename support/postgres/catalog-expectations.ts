/**
 * What the catalog must say of roles, privileges and ownership for a gate to pass, from the answers of catalog.ts. Each
 * check throws chai's AssertionError naming what did not hold.
 */
import { expect } from 'chai';
import type { OwnedObject, ReadAccess } from './catalog';
import { PROVISIONER_OBJECTS } from './provision';

/** `who` may SELECT every relation of `owned` (there are some) and holds no other privilege on any of them. */
export function expectReadsAllAndNothingMore(access: ReadAccess, owned: string, who: string): void {
  expect(access.relations, `relations of ${owned}`).to.be.greaterThan(0);
  expect(access.unreadable, `relations ${who} cannot read`).to.deep.equal([]);
  expect(access.beyondSelect, `privileges of ${who} beyond SELECT`).to.deep.equal([]);
}

/** Every object is owned by `owner` or by the provisioner, and the provisioner owns none but its own (PROVISIONER_OBJECTS). */
export function expectOwnedByOwnerOrProvisioner(objects: readonly OwnedObject[], owner: string, isProvisioner: (role: string) => boolean): void {
  const strays = objects.filter((object) => object.owner !== owner && !isProvisioner(object.owner));
  expect(strays, `objects owned by neither ${owner} nor the provisioner`).to.deep.equal([]);
  const provisioners = objects.filter((object) => isProvisioner(object.owner)).map((object) => `${object.kind} public.${object.name}`);
  expect(provisioners.filter((key) => !PROVISIONER_OBJECTS.includes(key)), "the provisioner's objects other than user_lookup").to.deep.equal([]);
}

/** Counts of a catalogue by kind, as the fixture gives its own. */
export interface CatalogueShape {
  readonly tables: number;
  readonly sequences: number;
  readonly indexes: number;
  readonly views: number;
  readonly functions: number;
  readonly triggers: number;
}

/** Schema public holds exactly the fixture's catalogue, and the provisioner's user_lookup where `userLookup` is in public. */
export function expectFixtureCatalogue(shape: Record<string, number>, fixture: CatalogueShape, userLookup: string): void {
  expect(shape).to.deep.equal({
    tables: fixture.tables,
    sequences: fixture.sequences,
    indexes: fixture.indexes,
    views: fixture.views,
    // As provisioned today, the provisioner's user_lookup lives in public beside the fixture's functions.
    functions: fixture.functions + (userLookup.startsWith('public.') ? 1 : 0),
    triggers: fixture.triggers,
  });
}
