import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NoPostgresAvailableError } from '../support/postgres/cluster';
import { findLocalBinaries } from '../support/postgres/local-binaries';
import { startCluster } from '../support/postgres/provider';

describe('PostgreSQL provider choice', () => {
  it('takes an explicit binaries directory as final, and says what it lacks', () => {
    const lookup = findLocalBinaries('/nonexistent/bin');
    assert.equal(lookup.bindir, undefined);
    assert.match(lookup.tried.join('\n'), /\/nonexistent\/bin \(from ERP_REHEARSAL_PG_BINDIR\) lacks initdb, postgres, pg_dump, pg_restore, psql/);
  });

  it('fails with one error that says how to install PostgreSQL or start Docker', async () => {
    await assert.rejects(
      startCluster({ choice: 'local', image: 'postgres:15', bindir: '/nonexistent/bin', osUser: 'postgres' }),
      (error: unknown) => {
        assert.ok(error instanceof NoPostgresAvailableError);
        assert.match(error.message, /apt-get install -y postgresql/);
        assert.match(error.message, /ERP_REHEARSAL_PG_BINDIR/);
        assert.match(error.message, /docker/i);
        return true;
      },
    );
  });
});
