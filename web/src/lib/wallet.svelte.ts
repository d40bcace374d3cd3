import type { ClusterConfig } from './api.ts';
import type { TxSigner } from './chain/signer.ts';
import type { Discovered } from './chain/standard.ts';

/**
 * The connected wallet. On the embedded localnet: a burner keypair kept in this browser's
 * localStorage (never sent anywhere), funded by the localnet's faucet. On a real cluster: a wallet
 * found through Wallet Standard. Either way trading goes through one `TxSigner`; the address is
 * known without loading web3.js, which is fetched only to sign.
 */
const BURNER_KEY = 'quantdesk.burner';
type StoredBurner = { publicKey: string; secretKey: number[] };

class WalletState {
  address = $state<string | undefined>();
  kind = $state<TxSigner['kind'] | undefined>();
  label = $state('');
  available = $state<{ name: string; icon: string }[]>([]);
  error = $state<string | undefined>();
  private cluster: ClusterConfig | undefined;
  private signerPromise: Promise<TxSigner> | undefined;
  private discovered: Discovered[] = [];
  private standard: (TxSigner & { disconnect(): Promise<void> }) | undefined;

  /** Restores the burner (embedded localnet) or starts Wallet Standard discovery (real cluster). */
  init(cluster: ClusterConfig | undefined): void {
    if (typeof window === 'undefined' || !cluster || this.cluster) return;
    this.cluster = cluster;
    if (cluster.embedded) {
      const stored = this.storedBurner();
      if (stored) this.use('burner', 'Burner wallet', stored.publicKey);
    } else {
      void import('./chain/standard.ts').then(({ discover }) =>
        discover((list) => {
          this.discovered = list;
          this.available = list.map((d) => ({ name: d.name, icon: d.icon }));
        }),
      );
    }
  }

  get burnerAllowed(): boolean {
    return this.cluster?.embedded === true;
  }

  private storedBurner(): StoredBurner | undefined {
    try {
      const raw = localStorage.getItem(BURNER_KEY);
      return raw ? (JSON.parse(raw) as StoredBurner) : undefined;
    } catch {
      return undefined;
    }
  }

  private use(kind: TxSigner['kind'], label: string, address: string): void {
    this.kind = kind;
    this.label = label;
    this.address = address;
    this.error = undefined;
  }

  async createBurner(): Promise<void> {
    if (!this.burnerAllowed) throw new Error('burner wallets exist only on the embedded localnet');
    const { newBurner } = await import('./chain/client.ts');
    const b = newBurner();
    localStorage.setItem(BURNER_KEY, JSON.stringify(b));
    this.signerPromise = undefined;
    this.use('burner', 'Burner wallet', b.publicKey);
  }

  async connect(name: string): Promise<void> {
    const d = this.discovered.find((w) => w.name === name);
    if (!d || !this.cluster) return;
    try {
      const [{ connectStandard, chainOf }, { Connection }] = await Promise.all([import('./chain/standard.ts'), import('@solana/web3.js')]);
      const genesis = await new Connection(this.cluster.rpcUrl).getGenesisHash();
      this.standard = await connectStandard(d, chainOf(genesis));
      this.signerPromise = Promise.resolve(this.standard);
      this.use('wallet-standard', d.name, this.standard.address);
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  async disconnect(): Promise<void> {
    await this.standard?.disconnect().catch(() => undefined);
    this.standard = undefined;
    this.signerPromise = undefined;
    this.address = undefined;
    this.kind = undefined;
  }

  /** Forgets the burner: its keypair is deleted from this browser. */
  forgetBurner(): void {
    localStorage.removeItem(BURNER_KEY);
    this.signerPromise = undefined;
    this.address = undefined;
    this.kind = undefined;
  }

  signer(): Promise<TxSigner> {
    if (!this.address) return Promise.reject(new Error('connect a wallet first'));
    if (this.kind === 'burner') {
      this.signerPromise ??= import('./chain/client.ts').then(({ burnerSigner }) => burnerSigner(this.storedBurner()!));
    }
    return this.signerPromise ?? Promise.reject(new Error('the wallet is not connected'));
  }
}

export const wallet = new WalletState();
