defmodule Megapool.Config do
  @moduledoc """
  The demo's settings, all from the environment the task definition gives (role megapool.aws.release):

    * `PORT` — the HTTP port (the container port; default 4000);
    * `BIND_TO_NODE_ADDRESS` — `true`: listen only on the node's own address (the IPv4 host of the node name), for
      tasks that share one host (the local emulator gives each task its own loopback address); otherwise 0.0.0.0,
      as on AWS where each task has its own ENI;
    * `DNS_CLUSTER_QUERY` — comma-separated DNS names (one Cloud Map service per region) whose A records are the
      nodes to connect to; `DNS_CLUSTER_INTERVAL_MS` — how often (default 5000).
  """

  def port! do
    case Integer.parse(System.get_env("PORT", "4000")) do
      {port, ""} when port in 1..65_535 -> port
      _ -> fail!("PORT must be a TCP port number (1-65535), got #{inspect(System.get_env("PORT"))}")
    end
  end

  def bind_address! do
    if System.get_env("BIND_TO_NODE_ADDRESS", "false") == "true" do
      case node_address() do
        {:ok, ip} -> ip
        :error -> fail!("BIND_TO_NODE_ADDRESS=true needs a node name <name>@<IPv4 address>, got #{node()}")
      end
    else
      {0, 0, 0, 0}
    end
  end

  @doc "The IPv4 address of this node's host part, if it is one."
  def node_address do
    case String.split(Atom.to_string(node()), "@") do
      [_, host] ->
        case :inet.parse_ipv4strict_address(String.to_charlist(host)) do
          {:ok, ip} -> {:ok, ip}
          _ -> :error
        end

      _ ->
        :error
    end
  end

  def cluster do
    names =
      System.get_env("DNS_CLUSTER_QUERY", "")
      |> String.split(",", trim: true)
      |> Enum.map(&String.trim/1)
      |> Enum.reject(&(&1 == ""))

    interval =
      case Integer.parse(System.get_env("DNS_CLUSTER_INTERVAL_MS", "5000")) do
        {ms, ""} when ms >= 100 -> ms
        _ -> fail!("DNS_CLUSTER_INTERVAL_MS must be a number of milliseconds >= 100")
      end

    [names: names, interval: interval]
  end

  defp fail!(message) do
    IO.puts(:stderr, "megapool: " <> message)
    raise ArgumentError, message
  end
end
