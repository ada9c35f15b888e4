import { ClusterOptions, FailoverCluster, startCluster } from './failover';

/**
 * One failover lab per test: `start` brings a cluster up, and an `afterEach` registered here destroys it
 * (processes stopped by PID, namespaces deleted) whether the test passed or not.
 */
export function labPerTest(): { start(opts: ClusterOptions): Promise<FailoverCluster> } {
  let cluster: FailoverCluster | undefined;
  afterEach(async () => {
    const c = cluster;
    cluster = undefined;
    await c?.destroy();
  }, 30_000);
  return {
    async start(opts: ClusterOptions): Promise<FailoverCluster> {
      cluster = await startCluster(opts);
      return cluster;
    },
  };
}
