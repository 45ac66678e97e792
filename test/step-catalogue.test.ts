/**
 * The step catalogue (support/authoring/step-catalogue.ts) and the parameter types (steps/parameter-types.ts): docs/STEPS.md
 * is what the code says now, every step is described, every step a shipped feature uses is in the catalogue — once —
 * and every step no feature uses has an example of its own; each parameter type refuses a bad value with a clear message.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { CucumberExpression, CucumberExpressionGenerator } from '@cucumber/cucumber-expressions';
import { descriptionAbove, exampleText } from '../support/authoring/jsdoc';
import { ROOT } from '../support/authoring/project';
import { renderMarkdown } from '../support/authoring/render-markdown';
import { renderText } from '../support/authoring/render-text';
import { stepCatalogue, type StepCatalogue } from '../support/authoring/step-catalogue';

const STEPS_MD = join(ROOT, 'docs', 'STEPS.md');

let catalogue: StepCatalogue;
before(async () => {
  catalogue = await stepCatalogue();
});

const at = (entry: { readonly uri: string; readonly line: number }) => `${entry.uri}:${entry.line}`;

/** Where two texts first differ, line by line, for a failure message. */
function firstDifference(committed: string, generated: string): string {
  const was = committed.split('\n');
  const is = generated.split('\n');
  const line = was.findIndex((text, index) => text !== is[index]);
  const index = line < 0 ? Math.min(was.length, is.length) : line;
  return `first difference at line ${index + 1}:\n  docs/STEPS.md: ${JSON.stringify(was[index])}\n  generated:     ${JSON.stringify(is[index])}`;
}

describe('docs/STEPS.md', () => {
  it('is what the generator produces from the step definitions and the features now', () => {
    const committed = existsSync(STEPS_MD) ? readFileSync(STEPS_MD, 'utf8') : '';
    const generated = renderMarkdown(catalogue);
    if (committed !== generated) {
      assert.fail(`docs/STEPS.md is out of date: run \`npm run steps:docs\` and commit docs/STEPS.md\n${firstDifference(committed, generated)}`);
    }
  });

  it('`rehearse steps --markdown` prints it, and `rehearse steps` prints the text catalogue', () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'bin', 'rehearse.js'), 'steps', '--markdown'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
      timeout: 120_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, renderMarkdown(catalogue));
    const text = renderText(catalogue, { colour: false });
    for (const entry of catalogue.entries) assert.ok(text.includes(`  ${entry.keyword} ${entry.expression}\n`), `the text catalogue lists ${entry.expression}`);
    assert.doesNotMatch(text, /\u001b\[/, 'no colour unless asked');
  });

  it('`rehearse steps` refuses an unknown option, exit 2', () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'bin', 'rehearse.js'), 'steps', '--html'], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 60_000 });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /unknown option --html/);
  });
});

describe('the step catalogue', () => {
  it('describes every step definition: a JSDoc comment right above it, whose first paragraph says what it does', () => {
    const bare = catalogue.entries.filter((entry) => !entry.description?.summary).map((entry) => `${at(entry)} ${entry.expression}`);
    assert.deepEqual(bare, [], 'put /** One line saying what the step does or asserts. */ right above each of these');
  });

  it('finds every step of every shipped feature, each matched by exactly one definition', () => {
    assert.ok(catalogue.featureSteps.length > 100, `the features' steps were read (${catalogue.featureSteps.length})`);
    assert.ok(new Set(catalogue.featureSteps.map((step) => step.uri)).size >= 8, 'every feature file was read');
    assert.deepEqual(catalogue.undefinedSteps.map((step) => `${at(step)} ${step.text}`), [], 'steps no definition matches');
    assert.deepEqual(
      catalogue.ambiguousSteps.map(({ step, entries }) => `${at(step)} ${step.text} ← ${entries.map(at).join(', ')}`),
      [],
      'steps more than one definition matches',
    );
    for (const step of catalogue.featureSteps) {
      const [entry] = catalogue.entries.filter((candidate) => candidate.uses.includes(step));
      assert.ok(entry?.description?.summary, `${at(step)} "${step.text}" is in the catalogue with its description`);
    }
  });

  it('gives every step no feature uses an @example that matches its own expression, and no other', () => {
    const unexampled = catalogue.entries.filter((entry) => entry.uses.length === 0 && !entry.description?.examples.length);
    assert.deepEqual(unexampled.map((entry) => `${at(entry)} ${entry.expression}`), [], 'steps no feature uses, with no @example');
    for (const entry of catalogue.entries) {
      for (const example of entry.description?.examples ?? []) {
        const text = exampleText(example);
        const matching = catalogue.entries.filter((candidate) => candidate.matches(text)).map(at);
        assert.deepEqual(matching, [at(entry)], `the @example of ${at(entry)}, "${example.step}", matches its own expression only`);
      }
    }
  });

  it('reads a description from the JSDoc right above the line, and none across a gap', () => {
    const source = [
      '/**',
      ' * Does the thing.',
      ' *',
      ' * More about it.',
      ' *',
      ' * @example Then the table is:',
      ' *   | a | b |',
      ' */',
      "Then('the table is:', () => {});",
      '',
      '/** Not this one. */',
      '',
      "Then('x', () => {});",
    ].join('\n');
    assert.deepEqual(descriptionAbove(source, 9), {
      summary: 'Does the thing.',
      details: ['More about it.'],
      examples: [{ step: 'Then the table is:', argument: ['| a | b |'] }],
    });
    assert.equal(descriptionAbove(source, 13), undefined);
  });
});

describe('the parameter types', () => {
  const typeNamed = (name: string) => {
    const entry = catalogue.parameterTypes.find((type) => type.name === name);
    assert.ok(entry, `parameter type {${name}} is defined`);
    return entry;
  };
  /** The message of the error `work` throws (it must throw an Error). */
  const refusal = (work: () => unknown, what: string): string => {
    try {
      work();
    } catch (error) {
      assert.ok(error instanceof Error, `${what}: an Error`);
      return error.message;
    }
    return assert.fail(`${what}: nothing was thrown`);
  };
  /** The transformer itself, given what the regexp's groups captured (a quoted type's text inside the quotes). */
  const transform = (name: string, value: string): unknown => typeNamed(name).type.transform(null, [value]);

  const cases: Record<string, { readonly good: readonly (readonly [string, unknown])[]; readonly bad: readonly (readonly [string, RegExp])[] }> = {
    instance: {
      good: [['erp', 'erp'], ['erp-sandbox', 'erp-sandbox'], ['dance-lessons-coach', 'dance-lessons-coach']],
      bad: [
        ['erp_sandbox', /^"erp_sandbox" is not an instance name: underscores belong to owner roles, not to instances \(did you mean "erp-sandbox"\?\); an instance is named <app> for prod and <app>-<env> otherwise/],
        ['erp_sandbox_role', /^"erp_sandbox_role" is not an instance name: .*did you mean "erp-sandbox"\?/],
        ['', /^"" is not an instance name: it is empty; an instance is named/],
        ['Erp-Sandbox', /^"Erp-Sandbox" is not an instance name: uppercase is not allowed \(did you mean "erp-sandbox"\?\)/],
        ['-sandbox', /^"-sandbox" is not an instance name: it is not kebab-case/],
        ['erp.sandbox', /^"erp.sandbox" is not an instance name: it is not kebab-case/],
        ['a'.repeat(64), /is not an instance name: database "a+" is longer than PostgreSQL's 63-character limit/],
      ],
    },
    'owner role': {
      good: [['erp_role', 'erp_role'], ['erp_sandbox_role', 'erp_sandbox_role'], ['dance-lessons-coach_role', 'dance-lessons-coach_role']],
      bad: [
        ['erp-sandbox', /^"erp-sandbox" is not an owner role: an owner role is <app>_role for prod and <app>_<env>_role otherwise \(ADR-0002\)/],
        ['credentials_editor', /^"credentials_editor" is not an owner role: an owner role is/],
        ['erp_sandbox_x_role', /^"erp_sandbox_x_role" is not an owner role: an owner role is/],
        ['erp_prod_role', /^"erp_prod_role" is not an owner role: prod elides: prod's owner role is "erp_role"/],
        ['ERP_role', /^"ERP_role" is not an owner role: app "ERP" is not kebab-case: uppercase is not allowed/],
        ['_role', /^"_role" is not an owner role: app is empty/],
      ],
    },
    host: {
      good: [['erp-sandbox.arcodange.lab', 'erp-sandbox.arcodange.lab'], ['erp.arcodange.lab', 'erp.arcodange.lab'], ['localhost', 'localhost'], ['cafe', 'cafe']],
      bad: [
        ['ERP.arcodange.lab', /^"ERP.arcodange.lab" is not a host name: uppercase is not allowed: write it lowercase, "erp.arcodange.lab"/],
        ['erp.arcodange.lab.', /^"erp.arcodange.lab." is not a host name: a trailing dot is not allowed: write "erp.arcodange.lab"/],
        ['127.0.0.2', /^"127.0.0.2" is not a host name: an IP address is not a host name/],
        ['[::1]', /^"\[::1\]" is not a host name: an IP address is not a host name/],
        ['erp..lab', /^"erp..lab" is not a host name: an empty label is not lowercase letters/],
        ['erp_sandbox.lab', /^"erp_sandbox.lab" is not a host name: label "erp_sandbox" is not lowercase letters, digits and inner hyphens/],
        ['https://erp.arcodange.lab', /^"https:\/\/erp.arcodange.lab" is not a host name: a host name has no scheme, user, port or path/],
        ['erp.arcodange.lab:8443', /^"erp.arcodange.lab:8443" is not a host name: a host name has no scheme/],
        ['', /^"" is not a host name: it is empty/],
      ],
    },
    sqlstate: {
      good: [['42501', '42501'], ['2BP01', '2BP01'], ['0A000', '0A000']],
      bad: [
        ['4250', /^"4250" is not a SQLSTATE: a SQLSTATE is five digits or uppercase letters, e\.g\. 42501$/],
        ['425010', /^"425010" is not a SQLSTATE: a SQLSTATE is five digits or uppercase letters/],
        ['2bp01', /^"2bp01" is not a SQLSTATE: SQLSTATEs are written in uppercase: 2BP01$/],
      ],
    },
    'http status': {
      good: [['403', 403], ['100', 100], ['599', 599]],
      bad: [
        ['99', /^"99" is not an HTTP status: an HTTP status is a whole number from 100 to 599, e\.g\. 403$/],
        ['600', /^"600" is not an HTTP status/],
        ['0403', /^"0403" is not an HTTP status/],
        ['4030', /^"4030" is not an HTTP status/],
      ],
    },
    amount: {
      good: [['12.50', 1250], ['12.5', 1250], ['7', 700], ['0.01', 1], ['-3.20 €', -320], ['12.50 €', 1250], ['-0', 0]],
      bad: [
        ['12,50', /^"12,50" is not an amount: the decimal separator is a dot, not a comma; write euros with at most two decimals after a dot, optionally followed by " €", e\.g\. 12\.50 or 12\.50 €$/],
        ['12.505', /^"12.505" is not an amount: more than two decimals is less than a cent/],
        ['12.50€', /^"12.50€" is not an amount: put a space before the euro sign/],
        ['1e3', /^"1e3" is not an amount: it is not a number of euros/],
        ['99999999999999999', /^"99999999999999999" is not an amount: it is too large/],
      ],
    },
  };

  it('are the domain\'s six, none offered in snippets, each described with an example', () => {
    assert.deepEqual(catalogue.parameterTypes.map((type) => type.name).sort(), Object.keys(cases).sort(), 'a new parameter type needs its good and bad values here');
    for (const type of catalogue.parameterTypes) {
      assert.equal(type.uri, 'steps/parameter-types.ts', `{${type.name}} is defined in steps/parameter-types.ts`);
      assert.ok(type.description?.summary, `{${type.name}} has a description`);
      assert.ok(type.description?.examples.length, `{${type.name}} has an @example`);
      assert.equal(type.type.useForSnippets, false, `{${type.name}} is not used for snippets (Cucumber keeps suggesting {string} and {int})`);
    }
    const snippets = new CucumberExpressionGenerator(() => catalogue.registry.parameterTypes).generateExpressions('the agent books a credit note of 12.50 € for "erp-sandbox"');
    assert.equal(snippets[0]?.source, 'the agent books a credit note of {float} € for {string}');
    const custom = catalogue.parameterTypes.map((type) => `{${type.name}}`);
    assert.deepEqual(snippets.filter((snippet) => custom.some((name) => snippet.source.includes(name))), [], 'no snippet suggests a parameter type of ours');
  });

  for (const [name, { good, bad }] of Object.entries(cases)) {
    it(`{${name}} accepts good values and refuses bad ones with a clear message`, () => {
      for (const [value, expected] of good) assert.deepEqual(transform(name, value), expected, `{${name}} of ${JSON.stringify(value)}`);
      for (const [value, message] of bad) assert.match(refusal(() => transform(name, value), `{${name}} refuses ${JSON.stringify(value)}`), message);
    });
  }

  it('match their documented examples in a step, and give the step the checked value', () => {
    for (const type of catalogue.parameterTypes) {
      const expression = new CucumberExpression(`the value is {${type.name}}`, catalogue.registry);
      for (const example of type.description!.examples) {
        const args = expression.match(`the value is ${example.step}`);
        assert.ok(args, `{${type.name}} matches its example ${example.step}`);
        assert.doesNotThrow(() => args[0]!.getValue(null), `{${type.name}} accepts its example ${example.step}`);
      }
    }
  });

  it('fail the step, not its match, on a bad value: the feature says what is wrong where it is wrong', () => {
    const minted = new CucumberExpression('a login role {string} is minted for instance {instance}', catalogue.registry);
    const args = minted.match('a login role "agent" is minted for instance "erp_sandbox"');
    assert.ok(args, 'the step still matches');
    assert.match(refusal(() => args[1]!.getValue(null), 'a bad instance'), /^"erp_sandbox" is not an instance name: /);
    const refused = new CucumberExpression('the attempt was refused with SQLSTATE {sqlstate}', catalogue.registry).match('the attempt was refused with SQLSTATE 4250');
    assert.match(refusal(() => refused![0]!.getValue(null), 'a bad SQLSTATE'), /^"4250" is not a SQLSTATE/);
  });
});
