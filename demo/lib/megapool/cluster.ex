defmodule Megapool.Cluster do
  @moduledoc """
  DNS discovery, the way docs/deploy.md tells users to wire their app (what the dns_cluster library does): every
  `interval` ms resolve each name of `DNS_CLUSTER_QUERY` (A records, `:inet_res`, i.e. the resolver of the VPC on AWS:
  /etc/resolv.conf, or the one `ERL_INETRC` names) and `Node.connect/1` to `<own basename>@<ip>` for every address
  that is not connected yet. Nodes that go away drop out of `Node.list/0` by themselves.
  """
  use GenServer
  require Logger

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  @impl true
  def init(opts) do
    names = Keyword.fetch!(opts, :names)
    interval = Keyword.fetch!(opts, :interval)

    cond do
      names == [] ->
        Logger.info("cluster: DNS_CLUSTER_QUERY is empty, no discovery")
        :ignore

      not Node.alive?() ->
        Logger.warning("cluster: distribution is off (RELEASE_DISTRIBUTION=none?), no discovery")
        :ignore

      true ->
        :ok = :net_kernel.monitor_nodes(true)
        send(self(), :poll)
        {:ok, %{names: names, interval: interval, basename: basename()}}
    end
  end

  @impl true
  def handle_info(:poll, state) do
    connected = MapSet.new(Node.list())

    for ip <- resolve(state.names),
        name = :"#{state.basename}@#{:inet.ntoa(ip)}",
        name != node() and not MapSet.member?(connected, name) do
      case Node.connect(name) do
        true -> Logger.info("cluster: connected to #{name}")
        other -> Logger.debug("cluster: #{name} not reachable (#{inspect(other)})")
      end
    end

    Process.send_after(self(), :poll, state.interval)
    {:noreply, state}
  end

  def handle_info({:nodeup, name}, state) do
    Logger.info("cluster: nodeup #{name}, members #{inspect(Megapool.members())}")
    {:noreply, state}
  end

  def handle_info({:nodedown, name}, state) do
    Logger.info("cluster: nodedown #{name}, members #{inspect(Megapool.members())}")
    {:noreply, state}
  end

  @doc "The A records of every name, each address once."
  def resolve(names) do
    names
    |> Enum.flat_map(&:inet_res.lookup(String.to_charlist(&1), :in, :a, timeout: 2000))
    |> Enum.uniq()
  end

  defp basename, do: node() |> Atom.to_string() |> String.split("@") |> hd()
end
