// Cursor pages, newest first, as every merchant-API list answers them: ordered by (created_at, id)
// descending, `starting_after` naming the last row of the previous page, one extra row read to
// know whether there is more. The caller finds the cursor row (and refuses an unknown one).
import { type SelectQueryBuilder, sql } from 'kysely';

export interface PageCursor {
  readonly id: string;
  readonly created_at: number;
}

export async function newestFirstPage<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  cursor: PageCursor | undefined,
  limit: number,
): Promise<{ data: O[]; hasMore: boolean }> {
  const after =
    cursor === undefined
      ? query
      : query.where(
          sql<boolean>`(created_at < ${cursor.created_at} or (created_at = ${cursor.created_at} and id < ${cursor.id}))`,
        );
  const rows = await after
    .orderBy(sql`created_at desc`)
    .orderBy(sql`id desc`)
    .limit(limit + 1)
    .execute();
  return { data: rows.slice(0, limit), hasMore: rows.length > limit };
}
