/**
 * The program of the real-engine bench (bench/engine.ts), run by the Pulumi
 * project bench/engine-program: one of bench/programs.ts's programs on a
 * real server, configured by the bench.
 *
 *   bench:program      component | handwritten | unchained
 *   bench:instances    how many app instances
 *   bench:host, bench:port, bench:adminUser, bench:adminPassword (secret), bench:sslrootcert
 */
import * as pulumi from '@pulumi/pulumi';
import { SslMode } from '../src/core/tls';
import { AnyProgramName, BENCH_MAX_CONNECTIONS, runProgram } from './programs';

const cfg = new pulumi.Config('bench');
const program = runProgram(cfg.require('program') as AnyProgramName, cfg.requireNumber('instances'), {
  host: cfg.require('host'),
  port: cfg.requireNumber('port'),
  adminUser: cfg.require('adminUser'),
  adminPassword: cfg.requireSecret('adminPassword'),
  sslmode: SslMode.VerifyFull,
  sslrootcert: cfg.require('sslrootcert'),
  adminIsSuperuser: false,
  // the budget is declared, not opened: room for 100 instances of 20 connections
  maxConnections: BENCH_MAX_CONNECTIONS,
  namePrefix: 'vw_',
});

export const urls = program.urls;
export const kratosDsns = program.kratosDsns;
