//! QuantDesk's embedded chain: surfpool's local Solana network (LiteSVM behind the agave RPC types),
//! offline, with no remote RPC to fetch accounts from, on the ports it is given.
//!
//! Usage: qd-surfnet [--host 127.0.0.1] [--rpc-port 8899] [--ws-port 8900] [--slot-ms 400] [--exit-with-stdin]
//!
//! Prints one line `ready rpc=http://… ws=ws://…` on stdout once the RPC serves, logs surfpool's own
//! warnings and errors on stderr, and exits 0 on SIGTERM or SIGINT. With `--exit-with-stdin` it also
//! exits when its stdin closes: a parent that dies, even by SIGKILL, takes the network with it.
use std::{process::ExitCode, thread, time::Duration};

use crossbeam_channel::unbounded;
use surfpool_core::{start_local_surfnet, surfnet::svm::SurfnetSvm};
use surfpool_types::{
    types::{BlockProductionMode, RpcConfig, SimnetConfig},
    SimnetCommand, SimnetEvent, SurfpoolConfig,
};

struct Args {
    host: String,
    rpc_port: u16,
    ws_port: u16,
    slot_ms: u64,
    exit_with_stdin: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { host: "127.0.0.1".into(), rpc_port: 8899, ws_port: 8900, slot_ms: 400, exit_with_stdin: false };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--exit-with-stdin" {
            args.exit_with_stdin = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: std::num::ParseIntError| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--host" => args.host = value,
            "--rpc-port" => args.rpc_port = value.parse().map_err(bad)?,
            "--ws-port" => args.ws_port = value.parse().map_err(bad)?,
            "--slot-ms" => args.slot_ms = value.parse().map_err(bad)?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if args.slot_ms == 0 {
        return Err("--slot-ms must be at least 1".into());
    }
    if args.rpc_port == args.ws_port {
        return Err("--rpc-port and --ws-port must differ".into());
    }
    Ok(args)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("qd-surfnet: {e}");
            return ExitCode::from(2);
        }
    };
    let config = SurfpoolConfig {
        simnets: vec![SimnetConfig {
            offline_mode: true,
            remote_rpc_url: None,
            slot_time: args.slot_ms,
            block_production_mode: BlockProductionMode::Clock,
            ..SimnetConfig::default()
        }],
        rpc: RpcConfig {
            bind_host: args.host.clone(),
            bind_port: args.rpc_port,
            ws_port: args.ws_port,
            ..RpcConfig::default()
        },
        ..SurfpoolConfig::default()
    };

    // No database: the chain lives in memory and starts from genesis on every start, like a test validator.
    let (svm, events_rx, geyser_rx) = match SurfnetSvm::new(None, "default") {
        Ok(parts) => parts,
        Err(e) => {
            eprintln!("qd-surfnet: cannot create the SVM: {e}");
            return ExitCode::from(1);
        }
    };
    let (commands_tx, commands_rx) = unbounded();
    let (subgraph_tx, _subgraph_rx) = unbounded();

    let runloop_commands = commands_tx.clone();
    thread::Builder::new()
        .name("surfnet".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
            let result = match runtime {
                Ok(rt) => rt.block_on(start_local_surfnet(svm, config, subgraph_tx, runloop_commands, commands_rx, geyser_rx)),
                Err(e) => Err(e.into()),
            };
            if let Err(e) = result {
                eprintln!("qd-surfnet: the network stopped: {e}");
                std::process::exit(1);
            }
        })
        .expect("spawn the surfnet thread");

    // The event channel is bounded: drain it for the whole life of the process, or the SVM blocks.
    let (host, rpc_port, ws_port) = (args.host, args.rpc_port, args.ws_port);
    thread::Builder::new()
        .name("surfnet-events".into())
        .spawn(move || {
            for event in events_rx.iter() {
                match event {
                    SimnetEvent::Ready(_) => println!("ready rpc=http://{host}:{rpc_port} ws=ws://{host}:{ws_port}"),
                    SimnetEvent::Aborted(why) => {
                        eprintln!("qd-surfnet: aborted: {why}");
                        std::process::exit(1);
                    }
                    SimnetEvent::ErrorLog(_, msg) => eprintln!("qd-surfnet error: {msg}"),
                    SimnetEvent::WarnLog(_, msg) => eprintln!("qd-surfnet warn: {msg}"),
                    _ => {}
                }
            }
        })
        .expect("spawn the event drain");

    if args.exit_with_stdin {
        thread::Builder::new()
            .name("stdin-watch".into())
            .spawn(|| {
                let mut sink = Vec::new();
                let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
                std::process::exit(0);
            })
            .expect("spawn the stdin watch");
    }

    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("qd-surfnet: cannot watch SIGTERM: {e}");
            return ExitCode::from(1);
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    let _ = commands_tx.send(SimnetCommand::Terminate(None));
    // The runloop stops its servers on Terminate; the process ends either way, promptly.
    tokio::time::sleep(Duration::from_millis(200)).await;
    ExitCode::SUCCESS
}
