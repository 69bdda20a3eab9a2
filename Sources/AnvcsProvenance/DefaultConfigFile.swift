/// The commented `ai-vcs.config.yaml` that `git anvcs init` writes when a repository has none.
/// Every value shown is the built-in default, so the file changes nothing until edited.
public enum DefaultConfigFile {
    public static let text = """
    # ANVCS team configuration (tracked in git, shared by everyone who clones this repository).
    # Values may use ${VAR} and ${VAR:-default} from the environment. Secrets never go here:
    # they come from the environment or the AWS credential chain.
    # Precedence: command-line flags > ANVCS_* environment > git config anvcs.* > this file > defaults.

    agent:
      id: ${ANVCS_AGENT_ID:-}        # recorded when no flag, variable, session or detected agent names one
      model: ${ANVCS_MODEL:-}

    provenance:
      prompt: full                   # full | hash (sha256 only) | none
      trailers: false                # add AI-Agent:/AI-Model: trailers to commit messages
      mirror: true                   # write .ai/meta/<commit>.json (git-ignored) beside each note

    hooks:
      async: true                    # record provenance in the background; git never waits

    storage:
      mode: local                    # local | s3 | ipfs | nfs | hybrid
      primary: local
      # fallback: s3

    blobs:
      track: []                      # e.g. ["*.pt", "*.safetensors", "data/**/*.parquet"]
      upload_on_commit: false
      compress: false
      key: path                      # path (S3 versions as history) | content (sha256)

    artifacts:
      hydrate: eager                 # eager | lazy
      write_after_checkout: 8388608  # bytes: larger artifacts are written by ANVCS after git's checkout (0: through git)

    adapters:
      local:
        path: .git/anvcs/store
      # s3:
      #   bucket: my-artifacts
      #   region: us-east-1
      #   endpoint_url: ${S3_ENDPOINT_URL:-}
      #   prefix: anvcs/
      # ipfs:
      #   api: http://127.0.0.1:5001
      # nfs:
      #   path: /mnt/artifacts

    """
}
