import { expect } from 'chai';
import { workerFor } from '../server/workers/routing.js';

// The primary's routing rule (pure): every connection of one client address
// goes to one worker, so a long-polling session always finds its worker.
describe('WORKERS routing by client address', () => {
  it('when the same address connects again, then it maps to the same worker, whatever the count', () => {
    for (const count of [2, 3, 8]) {
      for (const address of ['127.0.0.1', '10.1.2.3', '2001:db8::7']) {
        const worker = workerFor(address, count);
        expect(worker).to.be.within(0, count - 1);
        expect(workerFor(address, count)).to.equal(worker);
      }
    }
  });

  it('when an IPv4 client is seen as IPv4-mapped IPv6, then it maps where its IPv4 address does', () => {
    for (let host = 1; host <= 50; host++) {
      expect(workerFor(`::ffff:127.0.0.${host}`, 4)).to.equal(workerFor(`127.0.0.${host}`, 4));
    }
  });

  it('when there is one worker or no address, then it is worker 0', () => {
    expect(workerFor('127.0.0.9', 1)).to.equal(0);
    expect(workerFor(undefined, 4)).to.equal(0);
  });

  it('when many addresses connect, then every worker gets some of them', () => {
    const counts = [0, 0, 0, 0];
    for (let host = 1; host < 255; host++) counts[workerFor(`192.0.2.${host}`, 4)]!++;
    for (const count of counts) expect(count).to.be.greaterThan(0);
  });
});
