defmodule Megapool.Release do
  @moduledoc """
  Release tasks run with `bin/megapool eval`, like the ones `mix phx.gen.release` generates. The migration task of
  the release role runs `bin/megapool eval "Megapool.Release.migrate()"` once per deploy (the migration gate).
  """

  # The demo has no database driver (no Hex); its "migrations" are checked and reported, which is what the gate needs:
  # a step that succeeds only with a usable DATABASE_URL and says what it did.
  @migrations ["20260101000000_create_visits", "20260102000000_add_region_to_visits"]

  @doc """
  Checks `DATABASE_URL` (a `postgres://user:password@host:port/database` URL, from the task definition's secrets) and
  prints the migrations it applies to it. Without a usable URL it prints why on stderr and the VM exits with 1, so the
  migration gate fails the deploy with that message.
  """
  def migrate do
    Application.load(:megapool)

    case database(System.get_env("DATABASE_URL")) do
      {:ok, where} ->
        for migration <- @migrations, do: IO.puts("migrate: #{migration} applied to #{where}")
        IO.puts("migrate: #{length(@migrations)} migrations, release #{Megapool.version()}")
        :ok

      {:error, message} ->
        IO.puts(:stderr, "migrate: " <> message)
        System.halt(1)
    end
  end

  @doc false
  def database(url) when url in [nil, ""] do
    {:error,
     "DATABASE_URL is not set: the task definition must pass it in `secrets` " <>
       "(release_database_urls: true, or release_secrets.DATABASE_URL)"}
  end

  def database(url) do
    case URI.parse(url) do
      %URI{scheme: scheme, host: host, path: "/" <> db, port: port}
      when scheme in ["postgres", "postgresql", "ecto"] and host not in [nil, ""] and db != "" ->
        # The URL carries the password: only host, port and database are printed.
        {:ok, "#{host}:#{port || 5432}/#{db}"}

      _ ->
        {:error, "DATABASE_URL is not a PostgreSQL URL (postgres://user:password@host:5432/database)"}
    end
  end
end
