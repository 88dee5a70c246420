/** What the probe pod looks like. Running it (and cleaning up) is tested on the real control plane: test/e2e/disks.test.ts. */
import {describe, expect, it} from 'vitest'
import {admissionRejection, probePodManifest, probePodName} from '../../src/disks/probePods.js'

describe('the probe pod', () => {
  const pod = probePodManifest({
    name: 'p',
    namespace: 'ns',
    node: 'n1',
    image: 'img',
    script: 'echo hi',
    runId: 'abc123',
    timeoutMs: 60_000,
  })

  it('is pinned to the node, tolerates every taint, sees the host PID namespace, and cleans up after itself', () => {
    expect(pod.spec).toMatchObject({
      nodeName: 'n1',
      hostPID: true,
      restartPolicy: 'Never',
      tolerations: [{operator: 'Exists'}],
      automountServiceAccountToken: false,
      activeDeadlineSeconds: 120,
    })
  })

  it('starts on a containerd/runc node: the termination message is not on the read-only /dev, and no pod network is needed', () => {
    const c = pod.spec!.containers[0]
    expect(c.terminationMessagePath).toBe('/tmp/termination-log')
    const covering = c.volumeMounts!.filter(
      (m) => m.readOnly && c.terminationMessagePath!.startsWith(m.mountPath.replace(/\/?$/, '/')),
    )
    expect(covering).toEqual([])
    expect(pod.spec).toMatchObject({hostNetwork: true, dnsPolicy: 'Default'})
  })

  it('creates nothing on the host: every hostPath is typed, so a missing one is an error, not a new directory', () => {
    for (const v of pod.spec!.volumes!) expect(v.hostPath!.type).toBe('Directory')
  })

  it('mounts /dev, /sys and /run (for the udev database) read-only and passes the node name', () => {
    const c = pod.spec!.containers[0]
    expect(c.volumeMounts!.map((m) => [m.mountPath, m.readOnly])).toEqual([
      ['/dev', true],
      ['/sys', true],
      ['/run', true],
    ])
    expect(pod.spec!.volumes!.map((v) => v.hostPath!.path)).toEqual(['/dev', '/sys', '/run'])
    expect(c.env).toEqual([{name: 'NODE_NAME', valueFrom: {fieldRef: {fieldPath: 'spec.nodeName'}}}])
    expect(c.command).toEqual(['sh', '-c', 'exec 2>/dev/null\necho hi'])
    expect(c.securityContext).toMatchObject({privileged: true, readOnlyRootFilesystem: true})
  })

  it('has a valid, distinct name even for long node names', () => {
    const long = 'ip-10-0-1-23.eu-central-1.compute.internal.example.very-long-domain.net'
    const name = probePodName(long, 'abc123')
    expect(name.length).toBeLessThanOrEqual(63)
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    expect(name).not.toBe(probePodName(`${long}x`, 'abc123'))
  })
})

describe('when admission rejects the probe pod (the real rejection is tested in test/e2e/podsecurity.test.ts)', () => {
  const status = (code: number, message: string, kind?: string) => ({
    status: {code, message, details: kind ? {kind} : undefined},
  })

  it('Pod Security: names the level, what it rejects and the label to use', () => {
    const why = admissionRejection(
      status(
        403,
        'pods "p" is forbidden: violates PodSecurity "restricted:latest": host namespaces (hostPID=true), privileged (container "probe" must not set securityContext.privileged=true)',
      ),
      'apps',
    )
    expect(why).toMatch(
      /^namespace "apps" enforces Pod Security level "restricted", which rejects the probe pod \(host namespaces \(hostPID=true\), privileged .*\); .*pod-security.kubernetes.io\/enforce=privileged with -n/,
    )
  })

  it('RBAC, another admission policy, a missing namespace: each says so; anything else is left to the per-node report', () => {
    expect(
      admissionRejection(
        status(
          403,
          'pods is forbidden: User "dev" cannot create resource "pods" in API group "" in the namespace "apps"',
        ),
        'apps',
      ),
    ).toMatch(/^cannot create pods in namespace "apps" .*RBAC/)
    expect(
      admissionRejection(
        status(
          400,
          'admission webhook "validate.kyverno.svc" denied the request: privileged containers are not allowed',
        ),
        'apps',
      ),
    ).toMatch(/^an admission policy in namespace "apps" rejects the probe pod/)
    expect(admissionRejection(status(404, 'namespaces "apps" not found', 'namespaces'), 'apps')).toMatch(
      /^namespace "apps" not found; /,
    )
    expect(admissionRejection(status(500, 'etcdserver: request timed out'), 'apps')).toBeNull()
    expect(admissionRejection(new Error('socket hang up'), 'apps')).toBeNull()
  })
})
