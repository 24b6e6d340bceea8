// The shapes of weft's JSON answers the views read (docs/coordination.md, docs/cli.md);
// only the fields the page uses, all read defensively.

export type UseClass = "breaking" | "undetermined" | "additive" | "internal";

export interface AffectedUse {
  line: number;
  symbol: string;
  via: string;
  change: string;
  class: UseClass;
  enclosing: string | null;
  text: string;
  evidence: string;
  confirmed?: boolean;
}

export interface AffectedFile {
  path: string;
  severity: string;
  uses: AffectedUse[];
}

export interface PeerImpact {
  name: string;
  via: string;
  state: "affected" | "pinned" | "not-dependent" | "unreachable" | string;
  severity: string;
  error?: string;
  files: AffectedFile[];
  uses_omitted: number;
  breaking_uses: number;
  check?: { outcome: string };
}

export interface ApiChange {
  change: string;
  class: UseClass;
  path: string;
  qualified: string;
  name: string;
  owner: string | null;
  rule: string;
  note: string | null;
}

export interface ImpactReport {
  project: string;
  version: string | null;
  api: { changes: ApiChange[]; head_commit: string };
  peers: PeerImpact[];
  summary: Record<string, number>;
}

export interface RecordedImpact {
  seq: number;
  event: string;
  path: string;
  report: ImpactReport;
}

export interface ReleaseStatus {
  releases: {
    version: string;
    state: string;
    seq: number;
    peers: { name: string; acknowledged: boolean; ack_seq: number | null }[];
  }[];
}

export interface PeerStatus {
  name: string;
  peer_id: string | null;
  addr: string | null;
  connected: boolean;
  head: { seq: number; hash: string } | null;
  replica_length: number;
  lag: number;
  flags: string[];
  last_error: string | null;
  project: string | null;
}

export interface Peers {
  daemon: boolean;
  peers: PeerStatus[];
  notices: string[];
}

export interface NodeStatus {
  project: string;
  chain_id: string;
  length: number;
  head: { seq: number; hash: string };
  daemon: boolean;
}

export interface ChainEvent {
  seq: number;
  hash: string;
  kind: string;
  source: string;
  timestamp_ns: string;
  payload: unknown;
}

export interface ModuleGraph {
  modules: { id: string; files: number; lines: number; fan_in: number; fan_out: number; churn: number; hotspot: boolean; score: number }[];
  edges: { from: string; to: string; imports: number }[];
  cycles: string[][];
  truncated: boolean;
}

/** `weft cluster status --json`: a member's view of its cluster, or (not a member, or
 * no daemon) `{running: false, membership}`. */
export interface ClusterStatus {
  running?: boolean;
  state?: string;
  leader?: number | null;
  term?: number;
  members?: { id: number; name: string; peer_id: string; addr: string; role: string; matched: number | null; lag: number | null }[];
}
