defmodule Megapool do
  @moduledoc """
  The demo release of megapool.aws (docs/demo.md): an HTTP server on `$PORT` that reports its version, node, region
  and the Erlang cluster it sees, and joins every node that the Cloud Map names of `DNS_CLUSTER_QUERY` resolve to.
  """

  @doc "The release version (the image tag the build was given)."
  def version, do: to_string(Application.spec(:megapool, :vsn))

  @doc "Whether this build's /health passes (`scripts/build_demo.sh --unhealthy` builds one that never does)."
  def healthy?, do: Application.get_env(:megapool, :healthy, true)

  @doc "The members of the cluster as this node sees them: itself and every connected node, sorted."
  def members, do: Enum.sort([node() | Node.list()])

  @doc """
  The AWS region the task runs in: `AWS_REGION` / `AWS_DEFAULT_REGION` when set, else the region of the task's ARN
  from the task metadata endpoint v4 (`$ECS_CONTAINER_METADATA_URI_V4/task`, `TaskARN`:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-response.html).
  """
  def region do
    case :persistent_term.get({__MODULE__, :region}, nil) do
      nil ->
        region = region_from_env() || region_from_metadata() || "unknown"
        :persistent_term.put({__MODULE__, :region}, region)
        region

      region ->
        region
    end
  end

  defp region_from_env do
    Enum.find_value(["AWS_REGION", "AWS_DEFAULT_REGION"], fn name ->
      case System.get_env(name) do
        value when value in [nil, ""] -> nil
        value -> value
      end
    end)
  end

  defp region_from_metadata do
    with uri when uri not in [nil, ""] <- System.get_env("ECS_CONTAINER_METADATA_URI_V4"),
         {:ok, {{_, 200, _}, _headers, body}} <-
           :httpc.request(:get, {String.to_charlist(uri <> "/task"), []}, [timeout: 2000], body_format: :binary),
         [_, region] <- Regex.run(~r/"TaskARN"\s*:\s*"arn:aws[a-z-]*:ecs:([a-z0-9-]+):/, body) do
      region
    else
      _ -> nil
    end
  end
end
