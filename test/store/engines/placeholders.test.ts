import assert from 'node:assert/strict';
import { toPositional } from '../../../store/engines/postgres/index.js';

describe('postgres placeholders', () => {
  const cases: [string, string, string, number][] = [
    ['numbers plain placeholders in order', 'SELECT ? , ?', 'SELECT $1 , $2', 2],
    ['leaves a ? inside a string literal', "SELECT '?', ?", "SELECT '?', $1", 1],
    ['handles doubled quotes in a literal', "SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1", 1],
    ['handles backslash escapes in E strings', "SELECT E'\\'?', ?", "SELECT E'\\'?', $1", 1],
    ['keeps backslashes plain in standard strings', "SELECT 'a\\', ?", "SELECT 'a\\', $1", 1],
    ['leaves a ? inside a quoted identifier', 'SELECT ? AS "why?"', 'SELECT $1 AS "why?"', 1],
    ['leaves a ? inside a line comment', 'SELECT ? -- is it?\n, ?', 'SELECT $1 -- is it?\n, $2', 2],
    [
      'leaves a ? inside nested block comments',
      'SELECT /* a /* ? */ ? */ ?',
      'SELECT /* a /* ? */ ? */ $1',
      1,
    ],
    [
      'leaves a ? inside a dollar-quoted body',
      'SELECT $q$ ? $q$, $$?$$, ?',
      'SELECT $q$ ? $q$, $$?$$, $1',
      1,
    ],
    ['does not take a word$ for a dollar quote', 'SELECT a$b, ?', 'SELECT a$b, $1', 1],
    ['translates a statement without placeholders unchanged', 'SELECT 1', 'SELECT 1', 0],
  ];
  for (const [name, sql, text, count] of cases) {
    it(name, () => {
      assert.deepEqual(toPositional(sql), { text, count });
    });
  }
});
