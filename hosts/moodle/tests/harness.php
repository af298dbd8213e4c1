<?php
// The contract tests' entry into the plugin's pure classes (tests/moodle runs it as a subprocess).
// This is not Moodle: it reads JSON on stdin and writes JSON on stdout, so that Python can post
// exactly the bytes and headers the plugin would send (signed by the plugin's own client::signed).
//
//   php harness.php round   {snapshot, known, account, secret, keyid?, now, batchonly?} -> {actions, requests: [{path, headers, body}]}
//   php harness.php launch  {secret, account, user_id, role, now, locale?, nonce?} -> {token}
//   php harness.php ask     {path, account, user_id, more, secret, keyid?, now}          -> {path, headers, body}
require __DIR__ . '/bootstrap.php';

use local_outlooksync\local\client;
use local_outlooksync\local\launch_token;
use local_outlooksync\local\sync;

$input = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
$signed = fn(string $path, string $body) => ['path' => $path, 'headers' => client::signed($input['secret'], $input['now'], $body,
    $input['keyid'] ?? null),
    'body' => $body];
switch ($argv[1] ?? '') {
    case 'round':
        $round = sync::round($input['snapshot'], $input['known'] ?: [], $input['account'], $input['now'],
            $input['batchonly'] ?? false);
        $output = ['actions' => $round['actions'],
            'requests' => array_map(fn($r) => $signed($r['path'], $r['body']), $round['requests'])];
        break;
    case 'launch':
        $output = ['token' => launch_token::make($input['secret'], $input['account'], $input['user_id'],
            $input['role'], $input['now'], $input['locale'] ?? null, $input['nonce'] ?? null)];
        break;
    case 'ask':
        // As client::ask() does: a fresh request id unless the call gives one.
        $more = ($input['more'] ?? []) + ['request_id' => client::request_id()];
        $output = $signed($input['path'], client::about_user($input['account'], $input['user_id'], $more));
        break;
    default:
        fwrite(STDERR, "usage: php harness.php round|launch|ask < input.json\n");
        exit(2);
}
echo json_encode($output, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
