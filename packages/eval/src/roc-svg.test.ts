import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rocSvg } from './index.js';

test('rocSvg maps (fpr, tpr) onto the 380 px plot square and prints the AUC', () => {
  const svg = rocSvg(
    [
      { fpr: 0, tpr: 0, threshold: Number.POSITIVE_INFINITY },
      { fpr: 0.5, tpr: 1, threshold: 0.3 },
      { fpr: 1, tpr: 1, threshold: 0.1 },
    ],
    0.75,
    'ROC <test> & co',
  );
  assert.match(svg, /<polyline [^>]*points="60\.0,430\.0 250\.0,50\.0 440\.0,50\.0"\/>/);
  assert.match(svg, />AUC 0\.750</);
  assert.match(svg, />ROC &lt;test&gt; &amp; co</);
  assert.match(svg, /^<svg [^>]*>\n<title>ROC &lt;test&gt; &amp; co<\/title>/);
  assert.doesNotMatch(rocSvg([], null, 't'), /<polyline/);
});
