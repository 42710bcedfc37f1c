//! Spin's outbound Redis (`fermyon:spin/redis@2.0.0`): a connection to a
//! `redis://` address the plugin was granted in `allowed_outbound_hosts`,
//! resolved and checked once like outbound HTTP, then used as is. The bytes
//! it carries both ways count as the plugin's egress, as outbound HTTP's do.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{ConnectionAddr, IntoConnectionInfo, Value};
use wasmtime::component::Resource;

use super::bindings::fermyon::spin::redis::{self as spin_redis, Error, RedisParameter, RedisResult};
use super::{Spin, SpinView};
use crate::egress::Egress;
use crate::usage::Counted;

/// An open Redis connection held in the instance's resource table.
pub struct RedisConnection(MultiplexedConnection);

/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Adds `fermyon:spin/redis@2.0.0` to a linker.
pub(super) fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    getter: fn(&mut T) -> SpinView<'_>,
) -> wasmtime::Result<()> {
    spin_redis::add_to_linker::<T, Spin>(linker, getter)
}

type RedisOutcome<T> = wasmtime::Result<Result<T, Error>>;

/// Connects to `address` if the plugin was granted it (Spin's
/// `invalid-address` otherwise), counting the connection's bytes as egress.
async fn connect(egress: &Egress, address: &str) -> Result<RedisConnection, Error> {
    let info = address.into_connection_info().map_err(|_| Error::InvalidAddress)?;
    let ConnectionAddr::Tcp(host, port) = &info.addr else {
        return Err(Error::InvalidAddress);
    };
    let (host, port) = (
        host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase(),
        *port,
    );
    let resolved = egress.allow.resolve("redis", &host, port).await.map_err(|refused| {
        tracing::debug!(%host, port, %refused, "outbound Redis refused");
        Error::InvalidAddress
    })?;
    let open = async {
        let stream = tokio::net::TcpStream::connect(resolved).await?;
        stream.set_nodelay(true)?;
        let stream = Counted {
            inner: stream,
            usage: egress.usage.clone(),
        };
        // The driver ends when the last handle to the connection is dropped.
        let (connection, driver) = MultiplexedConnection::new(&info.redis, stream).await?;
        tokio::spawn(driver);
        redis::RedisResult::Ok(RedisConnection(connection))
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, open).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(e)) => Err(Error::Other(format!("cannot connect to {host}:{port}: {e}"))),
        Err(_) => Err(Error::Other(format!("connecting to {host}:{port} timed out"))),
    }
}

impl SpinView<'_> {
    /// Runs `command` on the connection behind `handle`.
    async fn run<T: redis::FromRedisValue>(
        &mut self,
        handle: &Resource<RedisConnection>,
        command: &redis::Cmd,
    ) -> RedisOutcome<T> {
        let mut connection = self.table.get(handle)?.0.clone();
        Ok(command.query_async(&mut connection).await.map_err(|e| match e.kind() {
            redis::ErrorKind::TypeError => Error::TypeError,
            _ => Error::Other(e.to_string()),
        }))
    }
}

impl spin_redis::Host for SpinView<'_> {}

impl spin_redis::HostConnection for SpinView<'_> {
    async fn open(&mut self, address: String) -> RedisOutcome<Resource<RedisConnection>> {
        match connect(self.egress, &address).await {
            Ok(connection) => Ok(Ok(self.table.push(connection)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn publish(
        &mut self,
        handle: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> RedisOutcome<()> {
        self.run(&handle, redis::cmd("PUBLISH").arg(channel).arg(payload)).await
    }

    async fn get(&mut self, handle: Resource<RedisConnection>, key: String) -> RedisOutcome<Option<Vec<u8>>> {
        self.run(&handle, redis::cmd("GET").arg(key)).await
    }

    async fn set(&mut self, handle: Resource<RedisConnection>, key: String, value: Vec<u8>) -> RedisOutcome<()> {
        self.run(&handle, redis::cmd("SET").arg(key).arg(value)).await
    }

    async fn incr(&mut self, handle: Resource<RedisConnection>, key: String) -> RedisOutcome<i64> {
        self.run(&handle, redis::cmd("INCR").arg(key)).await
    }

    async fn del(&mut self, handle: Resource<RedisConnection>, keys: Vec<String>) -> RedisOutcome<u32> {
        self.run(&handle, redis::cmd("DEL").arg(keys)).await
    }

    async fn sadd(&mut self, handle: Resource<RedisConnection>, key: String, values: Vec<String>) -> RedisOutcome<u32> {
        self.run(&handle, redis::cmd("SADD").arg(key).arg(values)).await
    }

    async fn smembers(&mut self, handle: Resource<RedisConnection>, key: String) -> RedisOutcome<Vec<String>> {
        self.run(&handle, redis::cmd("SMEMBERS").arg(key)).await
    }

    async fn srem(&mut self, handle: Resource<RedisConnection>, key: String, values: Vec<String>) -> RedisOutcome<u32> {
        self.run(&handle, redis::cmd("SREM").arg(key).arg(values)).await
    }

    async fn execute(
        &mut self,
        handle: Resource<RedisConnection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> RedisOutcome<Vec<RedisResult>> {
        let mut cmd = redis::cmd(&command);
        for argument in arguments {
            match argument {
                RedisParameter::Int64(n) => cmd.arg(n),
                RedisParameter::Binary(bytes) => cmd.arg(bytes),
            };
        }
        Ok(self.run::<Value>(&handle, &cmd).await?.and_then(results))
    }

    async fn drop(&mut self, handle: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.table.delete(handle)?;
        Ok(())
    }
}

/// A reply as Spin's results: an array becomes its elements, in order.
fn results(value: Value) -> Result<Vec<RedisResult>, Error> {
    Ok(match value {
        Value::Nil => vec![RedisResult::Nil],
        Value::Int(n) => vec![RedisResult::Int64(n)],
        Value::BulkString(bytes) => vec![RedisResult::Binary(bytes)],
        Value::SimpleString(text) => vec![RedisResult::Status(text)],
        Value::Okay => vec![RedisResult::Status("OK".into())],
        Value::Array(values) | Value::Set(values) => {
            let mut flat = Vec::new();
            for value in values {
                flat.extend(results(value)?);
            }
            flat
        }
        _ => return Err(Error::TypeError),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::egress::AllowList;
    use crate::usage::Usage;

    #[test]
    fn replies_map_to_spin_results() {
        let reply = Value::Array(vec![
            Value::Okay,
            Value::Int(3),
            Value::BulkString(b"v".to_vec()),
            Value::Nil,
        ]);
        let mapped = results(reply).unwrap();
        assert!(matches!(&mapped[..], [
            RedisResult::Status(ok),
            RedisResult::Int64(3),
            RedisResult::Binary(v),
            RedisResult::Nil
        ] if ok == "OK" && v == b"v"));
        assert!(matches!(results(Value::Double(1.5)), Err(Error::TypeError)));
    }

    /// The machine's Redis (127.0.0.1:6379) carries the command and its reply.
    #[tokio::test]
    async fn a_connection_counts_its_bytes_as_egress() {
        let usage = Arc::new(Usage::default());
        let egress = Egress {
            allow: Arc::new(AllowList::parse(&["redis://127.0.0.1:6379"]).unwrap()),
            usage: usage.clone(),
        };
        let RedisConnection(mut connection) = connect(&egress, "redis://127.0.0.1:6379")
            .await
            .expect("Redis on 127.0.0.1:6379");
        let before = usage.take().egress_bytes;
        let value = "x".repeat(1000);
        let () = redis::cmd("SET")
            .arg("pa-runtime-egress-test")
            .arg(&value)
            .query_async(&mut connection)
            .await
            .unwrap();
        let counted = usage.take().egress_bytes;
        assert!(
            (1000..1100).contains(&counted),
            "a 1,000-byte SET and its reply counted {counted} bytes (handshake: {before})"
        );
        let refused = connect(&egress, "redis://127.0.0.1:6380").await;
        assert!(matches!(refused, Err(Error::InvalidAddress)), "a port not granted");
    }
}
