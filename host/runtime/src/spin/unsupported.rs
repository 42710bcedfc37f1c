//! The Spin services this host does not provide: LLM inference, outbound
//! MQTT, PostgreSQL and MySQL, and SQLite databases. Spin's SDKs for
//! Python and JavaScript import all of them whatever an app uses, so they are
//! linked: opening a connection answers with the interface's own error naming
//! what is missing, as Spin answers for a service an app was not granted; no
//! connection is ever handed out.

use wasmtime::component::Resource;

use super::bindings::fermyon::spin::{llm, mqtt, mysql, postgres, rdbms_types, sqlite};
use super::bindings::spin::postgres3_0_0::postgres as postgres3;
use super::bindings::spin::postgres4_0_0::postgres as postgres4;
use super::bindings::spin::sqlite::sqlite as sqlite3;
use super::{Spin, SpinView};

/// Adds every service interface this host does not provide to a linker.
pub(super) fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    getter: fn(&mut T) -> SpinView<'_>,
) -> wasmtime::Result<()> {
    llm::add_to_linker::<T, Spin>(linker, getter)?;
    mqtt::add_to_linker::<T, Spin>(linker, getter)?;
    rdbms_types::add_to_linker::<T, Spin>(linker, getter)?;
    postgres::add_to_linker::<T, Spin>(linker, getter)?;
    mysql::add_to_linker::<T, Spin>(linker, getter)?;
    sqlite::add_to_linker::<T, Spin>(linker, getter)?;
    postgres3::add_to_linker::<T, Spin>(linker, getter)?;
    postgres4::add_to_linker::<T, Spin>(linker, getter)?;
    sqlite3::add_to_linker::<T, Spin>(linker, getter)
}

const NO_MODELS: &str = "this host serves no AI models";
const NO_MQTT: &str = "this host does not provide outbound MQTT";
const NO_POSTGRES: &str = "this host does not provide outbound PostgreSQL";
const NO_MYSQL: &str = "this host does not provide outbound MySQL";
const NO_SQLITE: &str = "this host does not provide Spin SQLite databases";

/// A method called on a connection that cannot exist: `open` never returns
/// one, and a guest cannot forge a handle.
fn never_opened<T>() -> wasmtime::Result<T> {
    wasmtime::bail!("no connection of this kind is ever opened by this host")
}

impl llm::Host for SpinView<'_> {
    fn infer(
        &mut self,
        model: String,
        _prompt: String,
        _params: Option<llm::InferencingParams>,
    ) -> wasmtime::Result<Result<llm::InferencingResult, llm::Error>> {
        tracing::debug!(%model, NO_MODELS);
        Ok(Err(llm::Error::ModelNotSupported))
    }

    fn generate_embeddings(
        &mut self,
        model: String,
        _text: Vec<String>,
    ) -> wasmtime::Result<Result<llm::EmbeddingsResult, llm::Error>> {
        tracing::debug!(%model, NO_MODELS);
        Ok(Err(llm::Error::ModelNotSupported))
    }
}

impl mqtt::Host for SpinView<'_> {}

impl mqtt::HostConnection for SpinView<'_> {
    fn open(
        &mut self,
        _address: String,
        _username: String,
        _password: String,
        _keep_alive_interval_in_secs: u64,
    ) -> wasmtime::Result<Result<Resource<mqtt::Connection>, mqtt::Error>> {
        Ok(Err(mqtt::Error::ConnectionFailed(NO_MQTT.into())))
    }

    fn publish(
        &mut self,
        _: Resource<mqtt::Connection>,
        _: String,
        _: Vec<u8>,
        _: mqtt::Qos,
    ) -> wasmtime::Result<Result<(), mqtt::Error>> {
        never_opened()
    }

    fn drop(&mut self, _: Resource<mqtt::Connection>) -> wasmtime::Result<()> {
        never_opened()
    }
}

impl rdbms_types::Host for SpinView<'_> {}

/// Implements a relational database interface whose `open` answers
/// `connection-failed` with `$why`.
macro_rules! no_database {
    ($iface:ident, $error:ty, $param:ty, $rows:ty, $executed:ty, $why:expr) => {
        impl $iface::Host for SpinView<'_> {}

        impl $iface::HostConnection for SpinView<'_> {
            fn open(&mut self, _address: String) -> wasmtime::Result<Result<Resource<$iface::Connection>, $error>> {
                Ok(Err(<$error>::ConnectionFailed($why.into())))
            }

            fn query(
                &mut self,
                _: Resource<$iface::Connection>,
                _: String,
                _: Vec<$param>,
            ) -> wasmtime::Result<Result<$rows, $error>> {
                never_opened()
            }

            fn execute(
                &mut self,
                _: Resource<$iface::Connection>,
                _: String,
                _: Vec<$param>,
            ) -> wasmtime::Result<Result<$executed, $error>> {
                never_opened()
            }

            fn drop(&mut self, _: Resource<$iface::Connection>) -> wasmtime::Result<()> {
                never_opened()
            }
        }
    };
}

no_database!(
    postgres,
    rdbms_types::Error,
    rdbms_types::ParameterValue,
    rdbms_types::RowSet,
    u64,
    NO_POSTGRES
);
no_database!(
    mysql,
    rdbms_types::Error,
    rdbms_types::ParameterValue,
    rdbms_types::RowSet,
    (),
    NO_MYSQL
);
no_database!(
    postgres3,
    postgres3::Error,
    postgres3::ParameterValue,
    postgres3::RowSet,
    u64,
    NO_POSTGRES
);
no_database!(
    postgres4,
    postgres4::Error,
    postgres4::ParameterValue,
    postgres4::RowSet,
    u64,
    NO_POSTGRES
);

impl sqlite::Host for SpinView<'_> {}

impl sqlite::HostConnection for SpinView<'_> {
    fn open(&mut self, _database: String) -> wasmtime::Result<Result<Resource<sqlite::Connection>, sqlite::Error>> {
        Ok(Err(sqlite::Error::Io(NO_SQLITE.into())))
    }

    fn execute(
        &mut self,
        _: Resource<sqlite::Connection>,
        _: String,
        _: Vec<sqlite::Value>,
    ) -> wasmtime::Result<Result<sqlite::QueryResult, sqlite::Error>> {
        never_opened()
    }

    fn drop(&mut self, _: Resource<sqlite::Connection>) -> wasmtime::Result<()> {
        never_opened()
    }
}

impl sqlite3::Host for SpinView<'_> {}

impl sqlite3::HostConnection for SpinView<'_> {
    fn open(&mut self, _database: String) -> wasmtime::Result<Result<Resource<sqlite3::Connection>, sqlite3::Error>> {
        Ok(Err(sqlite3::Error::Io(NO_SQLITE.into())))
    }

    fn execute(
        &mut self,
        _: Resource<sqlite3::Connection>,
        _: String,
        _: Vec<sqlite3::Value>,
    ) -> wasmtime::Result<Result<sqlite3::QueryResult, sqlite3::Error>> {
        never_opened()
    }

    fn last_insert_rowid(&mut self, _: Resource<sqlite3::Connection>) -> wasmtime::Result<i64> {
        never_opened()
    }

    fn changes(&mut self, _: Resource<sqlite3::Connection>) -> wasmtime::Result<u64> {
        never_opened()
    }

    fn drop(&mut self, _: Resource<sqlite3::Connection>) -> wasmtime::Result<()> {
        never_opened()
    }
}
