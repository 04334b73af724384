% Prints case_id,metric,value,call (%.17g) of the reference functions of TE, VIFp, MS-SSIM and Nabf
% (see README.md for where each .m file comes from; they must be on the path, e.g. copied beside this file):
%   CASES=<folder of <id>-A/B/F.png> IDS=id1,id2 METRICS=TE,VIFp_A,VIFp_B,MS_SSIM,Nabf octave-cli -q run_reference.m
pkg load image;
addpath(pwd);
warning('off', 'all');
folder = getenv('CASES');
ids = strsplit(getenv('IDS'), ',');
wanted = strsplit(getenv('METRICS'), ',');
calls = {'TE', 'metricMI(A,B,F,2)'; 'VIFp_A', 'vifp_mscale(A,F)'; 'VIFp_B', 'vifp_mscale(B,F)'; ...
         'MS_SSIM', '(msssim(A,F) + msssim(B,F)) / 2'; 'Nabf', 'nabf_of(F,A,B)'};
for i = 1:numel(ids)
  id = ids{i};
  A = double(imread(fullfile(folder, [id '-A.png']))); B = double(imread(fullfile(folder, [id '-B.png'])));
  F = double(imread(fullfile(folder, [id '-F.png'])));
  for j = 1:size(calls, 1)
    if any(strcmp(wanted, calls{j, 1}))
      evalc(['v = ' calls{j, 2} ';']);
      printf('%s,%s,%.17g,%s\n', id, calls{j, 1}, v, calls{j, 2});
      fflush(stdout);
    end
  end
end
