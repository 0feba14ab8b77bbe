defmodule Megapool.Application do
  @moduledoc false
  use Application
  require Logger

  @impl true
  def start(_type, _args) do
    port = Megapool.Config.port!()
    ip = Megapool.Config.bind_address!()

    Logger.info(
      "megapool #{Megapool.version()} starting on #{:inet.ntoa(ip)}:#{port} as #{node()} " <>
        "(healthy build: #{Megapool.healthy?()})"
    )

    children = [
      {Task.Supervisor, name: Megapool.ConnectionSupervisor},
      {Megapool.Http, ip: ip, port: port},
      {Megapool.Cluster, Megapool.Config.cluster()}
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: Megapool.Supervisor)
  end

  @impl true
  def prep_stop(state) do
    # SIGTERM (ECS stops the task after its target drained): the release stops the applications in order.
    Logger.info("megapool #{Megapool.version()} stopping (#{node()})")
    state
  end
end
