//! The flags that say how to reach the provider, shared by every command that talks to it.

use std::time::Duration;

use campaignctl::nxcc::{Client, ClientConfig, ConfigError, Credentials, SignAlgorithm};

#[derive(Debug, clap::Args)]
pub struct ProviderArgs {
    /// The NXCC gateway's base URL; the API paths are appended. Ignored with `--sandbox`, so a
    /// production endpoint set in the environment is never used by a trial.
    #[arg(
        long,
        env = "NXCC_ENDPOINT",
        hide_env_values = true,
        value_name = "URL",
        default_value = campaignctl::nxcc::DEFAULT_ENDPOINT
    )]
    pub endpoint: String,

    /// How requests are signed.
    #[arg(long, value_name = "ALGORITHM", default_value = "md5", value_parser = sign_algorithm())]
    pub sign_algorithm: SignAlgorithm,

    /// Seconds to wait for each answer of the provider (an apply request unanswered by then is
    /// held in doubt).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub request_timeout: u64,
}

impl ProviderArgs {
    /// A client for `endpoint` (the flag's, or a sandbox's) with these settings.
    pub fn client(
        &self,
        endpoint: String,
        credentials: Credentials,
    ) -> Result<Client, ConfigError> {
        Client::new(ClientConfig {
            endpoint,
            algorithm: self.sign_algorithm,
            request_timeout: Duration::from_secs(self.request_timeout.max(1)),
            ..ClientConfig::new(credentials)
        })
    }
}

/// `md5` or `sha256`, listed in `--help` and in the error for anything else.
fn sign_algorithm() -> impl clap::builder::TypedValueParser<Value = SignAlgorithm> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(SignAlgorithm::ALL.map(SignAlgorithm::header_value))
        .map(|name| SignAlgorithm::from_header_value(&name).unwrap_or_default())
}
