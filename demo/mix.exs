# The demo release of megapool.aws (docs/demo.md): built offline by scripts/build_demo.sh with Debian's elixir, no Hex,
# no dependencies. The version and whether /health passes are build inputs (MEGAPOOL_DEMO_VERSION,
# MEGAPOOL_DEMO_HEALTHY), so every built image is one fixed release, like an image pushed to ECR.
defmodule Megapool.MixProject do
  use Mix.Project

  def project do
    [
      app: :megapool,
      version: System.get_env("MEGAPOOL_DEMO_VERSION", "0.0.0-dev"),
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: [],
      releases: [megapool: [include_executables_for: [:unix], strip_beams: true]]
    ]
  end

  def application do
    [
      mod: {Megapool.Application, []},
      extra_applications: [:logger, :inets],
      env: [healthy: System.get_env("MEGAPOOL_DEMO_HEALTHY", "true") == "true"]
    ]
  end
end
