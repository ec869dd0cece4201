//! The benchmark's API client (tests/bench): N sequential getAllProcessInfo calls over a unix
//! socket, by XML-RPC (HTTP/1.1, one kept-alive connection; bodies with a Content-Length or
//! chunked, as the Go supervisord sends them) or gRPC. Prints
//! `requests_per_second p50_ms p99_ms`. Native, so that the daemon is what gets measured.
//!
//! Usage: bench_api xmlrpc|grpc SOCKET N

use std::error::Error;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Instant;

use proto::v1::GetAllProcessInfoRequest;
use proto::v1::supervisor_client::SupervisorClient;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const BODY: &str = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getAllProcessInfo\
                    </methodName>\n<params>\n</params>\n</methodCall>\n";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, mode, socket, n] = &args[..] else {
        return Err("usage: bench_api xmlrpc|grpc SOCKET N".into());
    };
    let n: usize = n.parse()?;
    let mut lat = match mode.as_str() {
        "xmlrpc" => xmlrpc(socket, n)?,
        "grpc" => grpc(socket, n)?,
        other => return Err(format!("unknown mode {other}").into()),
    };
    let total: f64 = lat.iter().sum();
    lat.sort_by(f64::total_cmp);
    let at = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    println!("{} {} {}", n as f64 / (total / 1000.0), at(0.5), at(0.99));
    Ok(())
}

/// Milliseconds of each of `n` calls (after one warm-up call).
fn timed(n: usize, mut call: impl FnMut() -> Result<()>) -> Result<Vec<f64>> {
    call()?;
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        call()?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(lat)
}

fn xmlrpc(socket: &str, n: usize) -> Result<Vec<f64>> {
    let stream = UnixStream::connect(socket)?;
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    let request = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let mut body = Vec::new();
    timed(n, || {
        out.write_all(request.as_bytes())?;
        let mut length = None;
        let mut chunked = false;
        let mut line = String::new();
        loop {
            line.clear();
            if input.read_line(&mut line)? == 0 {
                return Err("connection closed".into());
            }
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = Some(v.trim().parse::<usize>()?);
                } else if k.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = v.trim().eq_ignore_ascii_case("chunked");
                }
            }
        }
        if chunked {
            read_chunked(&mut input, &mut body)?;
        } else {
            body.resize(length.ok_or("no Content-Length")?, 0);
            input.read_exact(&mut body)?;
        }
        if !body.windows(22).any(|w| w == b"<name>statename</name>") {
            return Err("not a process list".into());
        }
        Ok(())
    })
}

/// A chunked body: hex size lines, each chunk followed by CRLF, until a zero-size chunk.
fn read_chunked(input: &mut impl BufRead, body: &mut Vec<u8>) -> Result<()> {
    body.clear();
    let mut line = String::new();
    loop {
        line.clear();
        input.read_line(&mut line)?;
        let size_text = line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size_text, 16)?;
        if size == 0 {
            // Trailers (none expected), then the blank line.
            loop {
                line.clear();
                if input.read_line(&mut line)? == 0 || line == "\r\n" {
                    return Ok(());
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        input.read_exact(&mut body[start..])?;
        let mut crlf = [0u8; 2];
        input.read_exact(&mut crlf)?;
    }
}

fn grpc(socket: &str, n: usize) -> Result<Vec<f64>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let channel = rt
        .block_on(tonic::transport::Endpoint::from_shared(format!("unix://{socket}"))?.connect())?;
    let mut client = SupervisorClient::new(channel).max_decoding_message_size(64 << 20);
    timed(n, || {
        let r = rt.block_on(client.get_all_process_info(GetAllProcessInfoRequest {}))?;
        if r.get_ref().processes.is_empty() {
            return Err("no processes".into());
        }
        Ok(())
    })
}
