//! `mock-mes [--listen ADDR] [--scenario FILE.json]`: serve (the base URL is the first line of stdout).
//! `mock-mes payload --database DB [--size N] [--seed S]`: write a package's bytes to stdout.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use mock_mes::{MockMes, Payload};

const USAGE: &str = "usage:
  mock-mes [--listen 127.0.0.1:0] [--scenario FILE.json] [--static DIR]
      serve; prints the base URL (http://127.0.0.1:PORT) as the first line of stdout.
      --scenario preloads the file's \"server\" object (or the whole file if it has none).
      --static serves the files of DIR under /panel/ (a browser page next to the API).
  mock-mes payload --database MESCDM [--size 65536] [--seed 1]
      write the package a ready job of that database serves to stdout.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("payload") { payload(&args[1..]) } else { serve(&args) };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-mes: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// `--name value` pairs; `allowed` lists the names.
fn options(args: &[String], allowed: &[&str]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-h" || a == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let (name, value) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), v.to_owned()),
            _ => {
                let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
                (a.clone(), v.clone())
            }
        };
        if !allowed.contains(&name.as_str()) {
            return Err(format!("unknown option {name}"));
        }
        out.push((name, value));
    }
    Ok(out)
}

fn payload(args: &[String]) -> Result<(), String> {
    let (mut database, mut size, mut seed) = (None, 65536u64, 1u64);
    for (name, value) in options(args, &["--database", "--size", "--seed"])? {
        match name.as_str() {
            "--database" => database = Some(value),
            "--size" => size = value.parse().map_err(|_| format!("--size {value:?} is not a number"))?,
            _ => seed = value.parse().map_err(|_| format!("--seed {value:?} is not a number"))?,
        }
    }
    let database = database.ok_or("payload needs --database")?;
    let p = Payload::new(&database, size, seed)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    p.write_to(&mut out).map_err(|e| format!("writing stdout: {e}"))?;
    out.flush().map_err(|e| format!("writing stdout: {e}"))
}

fn serve(args: &[String]) -> Result<(), String> {
    let mut listen: SocketAddr = "127.0.0.1:0".parse().expect("literal");
    let mut scenario = None;
    let mut static_dir = None;
    for (name, value) in options(args, &["--listen", "--scenario", "--static"])? {
        match name.as_str() {
            "--static" => static_dir = Some(std::path::PathBuf::from(value)),
            "--listen" => listen = value.parse().map_err(|_| format!("--listen {value:?} is not IP:PORT"))?,
            _ => scenario = Some(value),
        }
    }
    let scenario = match scenario {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
            let mut v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
            Some(match v.get_mut("server") {
                Some(server) => server.take(),
                None => v,
            })
        }
    };
    let rt =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("tokio runtime: {e}"))?;
    rt.block_on(async move {
        let mock = MockMes::start(listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        if let Some(s) = scenario {
            mock.set_scenario(s)?;
        }
        if let Some(dir) = static_dir {
            mock.set_static_dir(dir)?;
        }
        let mut stdout = std::io::stdout();
        writeln!(stdout, "{}", mock.base_url()).and_then(|_| stdout.flush()).map_err(|e| e.to_string())?;
        std::future::pending::<()>().await;
        drop(mock);
        Ok(())
    })
}
