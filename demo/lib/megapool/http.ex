defmodule Megapool.Http do
  @moduledoc """
  A minimal HTTP/1.1 server on :gen_tcp (no dependencies): one process per connection, one request per connection
  (`Connection: close`). Routes:

    * `GET /health` — 200 `ok` (500 in a build made with `scripts/build_demo.sh --unhealthy`);
    * `GET /` — JSON: version, node, region;
    * `GET /cluster` — JSON: this node, its version and region, and the sorted members `[node() | Node.list()]`.
  """
  use GenServer
  require Logger

  @recv_timeout 5_000

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  @impl true
  def init(opts) do
    ip = Keyword.fetch!(opts, :ip)
    port = Keyword.fetch!(opts, :port)
    Process.flag(:trap_exit, true)

    listen_opts = [:binary, packet: :http_bin, active: false, reuseaddr: true, ip: ip, backlog: 1024]

    case :gen_tcp.listen(port, listen_opts) do
      {:ok, socket} ->
        acceptor = spawn_link(fn -> accept(socket) end)
        Logger.info("http: listening on #{:inet.ntoa(ip)}:#{port}")
        {:ok, %{socket: socket, acceptor: acceptor}}

      {:error, reason} ->
        {:stop, {:listen_failed, "#{:inet.ntoa(ip)}:#{port}", reason}}
    end
  end

  @impl true
  def handle_info({:EXIT, _pid, reason}, state), do: {:stop, reason, state}

  @impl true
  def terminate(_reason, %{socket: socket}) do
    # Stop accepting; connections in flight finish under the connection supervisor, which stops after this.
    :gen_tcp.close(socket)
  end

  defp accept(listen) do
    case :gen_tcp.accept(listen) do
      {:ok, socket} ->
        {:ok, pid} = Task.Supervisor.start_child(Megapool.ConnectionSupervisor, fn -> serve_when_owned(socket) end)
        :ok = :gen_tcp.controlling_process(socket, pid)
        send(pid, :owned)
        accept(listen)

      {:error, :closed} ->
        exit(:normal)

      {:error, reason} ->
        exit({:accept_failed, reason})
    end
  end

  defp serve_when_owned(socket) do
    receive do
      :owned -> serve(socket)
    after
      @recv_timeout -> :gen_tcp.close(socket)
    end
  end

  defp serve(socket) do
    with {:ok, {:http_request, method, {:abs_path, target}, _version}} <- :gen_tcp.recv(socket, 0, @recv_timeout),
         :ok <- skip_headers(socket) do
      path = target |> String.split("?", parts: 2) |> hd()
      {status, type, body} = route(method, path)
      respond(socket, method, status, type, body)
    else
      _ -> respond(socket, :GET, 400, "text/plain", "bad request\n")
    end

    :gen_tcp.close(socket)
  end

  defp skip_headers(socket) do
    case :gen_tcp.recv(socket, 0, @recv_timeout) do
      {:ok, :http_eoh} -> :ok
      {:ok, {:http_header, _, _, _, _}} -> skip_headers(socket)
      other -> {:error, other}
    end
  end

  @doc false
  def route(method, path) when method in [:GET, :HEAD] do
    case path do
      "/health" ->
        if Megapool.healthy?(), do: {200, "text/plain", "ok\n"}, else: {500, "text/plain", "unhealthy build\n"}

      "/" ->
        {200, "application/json", json(about())}

      "/cluster" ->
        {200, "application/json", json(Map.put(about(), "members", Enum.map(Megapool.members(), &Atom.to_string/1)))}

      _ ->
        {404, "text/plain", "not found\n"}
    end
  end

  def route(_method, _path), do: {405, "text/plain", "method not allowed\n"}

  defp about do
    %{"version" => Megapool.version(), "node" => Atom.to_string(node()), "region" => Megapool.region()}
  end

  defp respond(socket, method, status, type, body) do
    head = [
      "HTTP/1.1 #{status} #{reason(status)}\r\n",
      "content-type: #{type}\r\n",
      "content-length: #{byte_size(body)}\r\n",
      "connection: close\r\n\r\n"
    ]

    :gen_tcp.send(socket, if(method == :HEAD, do: head, else: [head, body]))
  end

  defp reason(200), do: "OK"
  defp reason(400), do: "Bad Request"
  defp reason(404), do: "Not Found"
  defp reason(405), do: "Method Not Allowed"
  defp reason(500), do: "Internal Server Error"

  @doc "JSON for maps with string keys, lists, strings, numbers, booleans and nil (no JSON library: no Hex)."
  def json(map) when is_map(map) do
    fields = map |> Enum.sort() |> Enum.map(fn {key, value} -> [json(to_string(key)), ":", json(value)] end)
    IO.iodata_to_binary(["{", Enum.intersperse(fields, ","), "}"])
  end

  def json(list) when is_list(list), do: IO.iodata_to_binary(["[", Enum.intersperse(Enum.map(list, &json/1), ","), "]"])
  def json(nil), do: "null"
  def json(value) when is_boolean(value) or is_number(value), do: to_string(value)

  def json(string) when is_binary(string) do
    escaped =
      for <<char::utf8 <- string>>, into: "" do
        case char do
          ?" -> "\\\""
          ?\\ -> "\\\\"
          c when c < 0x20 -> "\\u" <> String.pad_leading(Integer.to_string(c, 16), 4, "0")
          c -> <<c::utf8>>
        end
      end

    "\"" <> escaped <> "\""
  end
end
